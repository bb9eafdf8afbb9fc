"""Public pages for applicants."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("bookings/lookup/", views.home, name="booking-lookup"),
]
