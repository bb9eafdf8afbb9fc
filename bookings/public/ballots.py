"""A ballot release's public page: what it hands out and when, its hashes, its draw, and the
JSON and the script anyone uses to check the draw. No personal data."""

from pathlib import Path

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from bookings import ballots, draw
from bookings.codes import normalize_code
from bookings.models import Entry, Release

SCRIPT = Path(draw.__file__)


def _release(pk) -> Release:
    return get_object_or_404(Release.objects.select_related("office"), pk=pk)


@never_cache
def release_page(request, pk):
    release = _release(pk)
    published = ballots.published(release)
    outcome = published["outcome"] or {}
    results = [o["result"] for o in outcome.values()]
    code = normalize_code(request.GET.get("code", ""))
    entry = release.entries.filter(code=code).first() if code else None
    return render(
        request,
        "bookings/public/ballot.html",
        {
            "release": release,
            "office": release.office,
            "published": published,
            "entry_count": len(published["entries"] or []),
            "won": results.count("won"),
            "waiting": results.count("waiting"),
            "code": code,
            "entry": entry,
            "result": outcome.get(entry.receipt) if entry else None,
            "withdrawn": entry is not None and entry.status == Entry.Status.WITHDRAWN,
        },
    )


@never_cache
def release_json(request, pk):
    """Answer what the release publishes, as the file bookings/draw.py checks."""
    response = JsonResponse(
        ballots.published(_release(pk)), json_dumps_params={"indent": 1, "ensure_ascii": False}
    )
    response["Content-Disposition"] = f'attachment; filename="release-{pk}.json"'
    return response


def draw_script(request):
    """Answer the draw's own code, to run on a release's JSON: python3 draw.py release.json."""
    response = HttpResponse(SCRIPT.read_bytes(), content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="draw.py"'
    return response
