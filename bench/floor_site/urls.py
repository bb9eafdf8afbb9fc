"""The app's URLs and, beside them, the floor's booking view at `bench/floor/book`."""

from django.urls import path

from antrean.urls import urlpatterns as app_urlpatterns
from bench.floor_site.views import book

urlpatterns = [path("bench/floor/book", book), *app_urlpatterns]
