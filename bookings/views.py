"""Public pages: find an office, pick a day and window, book, look up, reschedule, cancel."""

from django.http import HttpResponse
from django.shortcuts import render

from offices.models import Office

from .availability import next_free_days


def home(request):
    offices = list(Office.objects.all())
    free = next_free_days(offices)
    rows = [(office, free.get(office.pk)) for office in offices]
    return render(request, "bookings/home.html", {"rows": rows})


def rate_limited(request, exception):
    return HttpResponse(status=429)
