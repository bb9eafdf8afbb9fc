"""Public pages for applicants: stable, readable URLs without personal data."""

from functools import partial

from django.urls import path

from . import ballots, closed, contact_code, display, groups, turn, views

urlpatterns = [
    path("", views.home, name="home"),
    path("offices/<slug:code>/", views.office_calendar, name="office-calendar"),
    # Before the day's route, which would take "display" for a day.
    path("offices/<slug:code>/display/", display.display, name="office-display"),
    path("offices/<slug:code>/display.json", display.display_data, name="office-display-data"),
    path("offices/<slug:code>/<str:day>/", views.office_day, name="office-day"),
    path("offices/<slug:code>/<str:day>/<int:window_id>/book/", views.book, name="booking-form"),
    path(
        "offices/<slug:code>/<str:day>/<int:window_id>/check/",
        views.check_answers,
        name="booking-check",
    ),
    path("bookings/lookup/", views.lookup, name="booking-lookup"),
    path("bookings/<str:code>/", views.booking_detail, name="booking-detail"),
    path("bookings/<str:code>/confirm/", contact_code.confirm_contact, name="contact-confirm"),
    path("bookings/<str:code>/print/", views.booking_print, name="booking-print"),
    path("bookings/<str:code>/booking.ics", views.booking_calendar_file, name="booking-ics"),
    path("bookings/<str:code>/cancel/", views.cancel, name="booking-cancel"),
    path("bookings/<str:code>/reschedule/", views.reschedule, name="booking-reschedule"),
    path("bookings/<str:code>/keep/", closed.keep, name="booking-keep"),
    path("bookings/<str:code>/choose/", closed.choose, name="booking-choose"),
    path("bookings/<str:code>/wait/", closed.wait, name="booking-wait"),
    path("queue/<str:token>/", turn.turn, name="queue-turn"),
    path("groups/<str:code>/", groups.group_detail, name="group-detail"),
    path("groups/<str:code>/keep/", partial(closed.keep, group=True), name="group-keep"),
    path("groups/<str:code>/choose/", partial(closed.choose, group=True), name="group-choose"),
    path("groups/<str:code>/wait/", partial(closed.wait, group=True), name="group-wait"),
    path("groups/<str:code>/print/", groups.group_print, name="group-print"),
    path("groups/<str:code>/booking.ics", groups.group_calendar_file, name="group-ics"),
    path("groups/<str:code>/cancel/", groups.group_cancel, name="group-cancel"),
    path("groups/<str:code>/reschedule/", groups.group_reschedule, name="group-reschedule"),
    path("ballots/<int:pk>/", ballots.release_page, name="ballot"),
    path("ballots/<int:pk>/enter/", ballots.enter, name="ballot-enter"),
    path("ballots/<int:pk>/withdraw/", ballots.withdraw, name="ballot-withdraw"),
    path("ballots/<int:pk>/change/", ballots.open_entry, name="ballot-open-entry"),
    path("ballots/<int:pk>/entries/<str:code>/change/", ballots.change, name="ballot-change"),
    path(
        "ballots/<int:pk>/entries/<str:code>/confirm/",
        contact_code.confirm_entry,
        name="ballot-entry-confirm",
    ),
    path("ballots/<int:pk>/release.json", ballots.release_json, name="ballot-json"),
    path("ballots/draw.py", ballots.draw_script, name="ballot-draw-script"),
    path("offers/<str:token>/", ballots.offer, name="offer"),
]
