"""The app's settings, with the URLs of the floor's site (bench/floor_site/urls.py)."""

from antrean.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor_site.urls"
