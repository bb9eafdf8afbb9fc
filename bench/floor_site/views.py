"""The floor of a booking in our own stack: one conditional UPDATE, one INSERT, no forms.

It takes the JSON body bench/lua/api_book.lua sends to the app's API and answers 201 or
409 "full" as the API does, under the app's settings and middleware: what it costs is bare
Django, what the app's API costs above it is our own rules. Its INSERT writes the columns
bench/sql/pgbench_booking.sql writes; bench/tests/test_sql_columns.py checks both.
"""

import json
import secrets

from django.db import connection, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

TAKE_PLACE = """
UPDATE offices_windowday SET booked = booked + 1
WHERE window_id = %(window)s AND date = %(date)s AND booked < capacity
"""

# The office, the times and the time zone come from the window, in the same statement.
INSERT_BOOKING = """
INSERT INTO bookings_booking
  (code, office_id, date, window_id, starts_at, ends_at, channel, status, uses_reserve,
   walk_in_reason, override_reason, nik, full_name, birth_date, birth_date_mismatch, email,
   phone, purpose, passport_type, application_type, language, queue_number, reschedule_count,
   cancel_reason, link_version, created_at, updated_at)
SELECT %(code)s, w.office_id, %(date)s, w.id,
       (%(date)s::date + w.start) AT TIME ZONE o.timezone,
       (%(date)s::date + w."end") AT TIME ZONE o.timezone,
       'online', 'booked', false, '', '', %(nik)s, %(full_name)s, %(birth_date)s, false,
       %(email)s, %(phone)s, %(purpose)s, 'ordinary', 'new', 'id', '', 0, '', 0, now(), now()
FROM offices_servicewindow w JOIN offices_office o ON o.id = w.office_id
WHERE w.id = %(window)s
"""

FIELDS = ("date", "window", "nik", "full_name", "birth_date", "email", "phone", "purpose")


@csrf_exempt
@require_POST
def book(request):
    """Take a place of the window-day and insert the booking: 201, or 409 when it is full."""
    body = json.loads(request.body)
    values = {name: body[name] for name in FIELDS}
    values["code"] = "F" + secrets.token_hex(5).upper()  # 40 random bits: no clash in a run
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(TAKE_PLACE, values)
        if cursor.rowcount == 0:
            return JsonResponse({"error": "full"}, status=409)
        cursor.execute(INSERT_BOOKING, values)
    return JsonResponse({"code": values["code"]}, status=201)
