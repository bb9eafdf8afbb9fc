"""Print the Celery queues the app sends tasks to (CELERY_TASK_ROUTES, the beat's options)."""

import json
import os


def app_queues(routes, schedule, default):
    """Return the sorted queue names of a route map and a beat schedule, the default among them.

    A router that is a function names no queue in advance: its queues cannot be listed here.
    """
    found = {default}
    maps = routes if isinstance(routes, (list, tuple)) else [routes]
    for route_map in maps:
        if not isinstance(route_map, dict):
            raise ValueError(f"a task router that is not a map cannot be read: {route_map!r}")
        for route in route_map.values():
            queue = route.get("queue") if isinstance(route, dict) else route
            if queue:
                found.add(str(queue))
    for entry in (schedule or {}).values():
        queue = entry.get("options", {}).get("queue")
        if queue:
            found.add(queue)
    return sorted(found)


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "antrean.settings")
    from antrean.celery import app

    conf = app.conf
    queues = app_queues(conf.task_routes or {}, conf.beat_schedule, conf.task_default_queue)
    print(json.dumps(queues))


if __name__ == "__main__":
    main()
