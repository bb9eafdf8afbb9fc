"""The /metrics endpoint (Prometheus text format) and the timing of every request by view.

Counters of events (requests, booking attempts) live in the process that saw them. With one
process (`runserver`, the tests) a scrape reads them from memory. Under gunicorn, whose sync
workers each answer a share of the requests, set `PROMETHEUS_MULTIPROC_DIR` to a directory in
the server's environment and start it with `-c python:antrean.gunicorn_conf`, which empties it:
each worker then writes its counts into files there, and a scrape, answered by any worker, adds
up the files of all of them (prometheus_client's multiprocess mode). The state of the outbox, the
queues and the ballots is read from the database at scrape time (bookings.metrics.Collector),
the same whichever worker answers.

The endpoint answers only the addresses in METRICS_ALLOWED_IPS (the client's address as the
rate limits read it, antrean.client_ip); anyone else gets a 404, as if it did not exist.
"""

import ipaddress
import os
import time

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector

from bookings.metrics import Collector

from .client_ip import client_ip

# Requests Django did not route to a view: static files (WhiteNoise), redirects to HTTPS,
# addresses that match no URL.
UNROUTED = "unrouted"

REQUEST_SECONDS = Histogram(
    "antrean_http_request_duration_seconds",
    "Time Django took to answer a request, by the view's URL name (never the path).",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RESPONSES = Counter(
    "antrean_http_responses",
    "Responses by the view's URL name and the HTTP status.",
    ["view", "status"],
)


def view_name(request) -> str:
    """Return the URL name of the view that answered (`booking-check`, `api-v1:create_booking`).

    Never the path: it holds booking codes and tokens, and would make a series per booking.
    """
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else UNROUTED


class RequestMetricsMiddleware:
    """Time each request and count its response, labelled by view name and status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        view = view_name(request)
        REQUEST_SECONDS.labels(view).observe(time.perf_counter() - started)
        RESPONSES.labels(view, str(response.status_code)).inc()
        return response


def is_allowed(address: str) -> bool:
    """Return whether an address is in METRICS_ALLOWED_IPS (addresses or networks)."""
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(
        client in ipaddress.ip_network(allowed, strict=False)
        for allowed in settings.METRICS_ALLOWED_IPS
    )


def multiprocess_dir() -> str:
    """Return the directory the gunicorn workers write their counts into, or ''."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def exposition() -> bytes:
    """Return every metric in Prometheus's text format: events of all processes, then state."""
    registry = CollectorRegistry()
    folder = multiprocess_dir()
    if folder:
        MultiProcessCollector(registry, path=folder)
    else:
        registry.register(REGISTRY)  # this one process's counters, CPU and memory
    registry.register(Collector())
    return generate_latest(registry)


@require_GET
def _scrape(request):
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)


@never_cache
def metrics(request):
    """Answer Prometheus's scrape from an allowed address; a 404 to anyone else, whatever the
    method, so that nothing tells it exists."""
    if not is_allowed(client_ip(request)):
        raise Http404
    return _scrape(request)
