"""Factories for offices, their windows and overrides."""

from datetime import time

import factory

from offices.models import DayOverride, Office, ServiceWindow

DEMO_WINDOWS = [(time(8), time(10), 45), (time(10), time(12), 45), (time(13), time(15), 45)]


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Office
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"kanim-{n}")
    name = factory.LazyAttribute(lambda o: f"Kantor Imigrasi {o.city}")
    city = factory.Sequence(lambda n: f"Kota {n}")
    address = "Jl. Merdeka No. 1"
    timezone = "Asia/Jakarta"
    daily_quota = 150
    walk_in_reserve = 15
    open_weekdays = "0123456"
    booking_horizon_days = 30
    min_days_ahead = 1

    @factory.post_generation
    def windows(office, create, extracted, **kwargs):
        """Give every weekday the demo windows unless windows=False or a list is passed."""
        if not create or extracted is False:
            return
        spans = extracted or [
            (time(8), time(10), 45),
            (time(10), time(12), 45),
            (time(13), time(15), 45),
        ]
        for weekday in range(7):
            for start, end, capacity in spans:
                ServiceWindow.objects.create(
                    office=office, weekday=weekday, start=start, end=end, capacity=capacity
                )


class ServiceWindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceWindow

    office = factory.SubFactory(OfficeFactory, windows=False)
    weekday = 0
    start = time(8)
    end = time(10)
    capacity = 45


class DayOverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DayOverride

    office = factory.SubFactory(OfficeFactory)
    closed = True
    reason = "Cuti bersama"
