-- One online booking as create_booking() makes it, as plain SQL: the conditional UPDATE of
-- the office-day, then of the window-day, the INSERT of the booking and of its two
-- notifications (e-mail, SMS), in one transaction; when a counter is full, ROLLBACK.
-- bench/floors.py fills in the double-braced names: first office and window ids, how many
-- offices and days, the first day.
\set k random(0, {{offices}} - 1)
\set d random(0, {{days}} - 1)
\set j random(0, 2)
BEGIN;
WITH took AS (
  UPDATE offices_officeday
  SET booked = booked + 1, online_booked = online_booked + 1
  WHERE office_id = {{office0}} + :k AND date = date '{{day0}}' + :d
    AND booked < quota AND online_booked < online_quota
  RETURNING 1
) SELECT count(*) AS took_day FROM took \gset
\if :took_day
WITH took AS (
  UPDATE offices_windowday
  SET booked = booked + 1
  WHERE window_id = {{window0}} + 3 * :k + :j AND date = date '{{day0}}' + :d AND booked < capacity
  RETURNING 1
) SELECT count(*) AS took_window FROM took \gset
\if :took_window
INSERT INTO bookings_booking
  (code, office_id, date, window_id, starts_at, ends_at, channel, status, uses_reserve,
   walk_in_reason, override_reason, nik, full_name, birth_date, birth_date_mismatch, email,
   phone, purpose, passport_type, application_type, language, queue_number, reschedule_count,
   cancel_reason, link_version, created_at, updated_at)
SELECT 'Q' || lpad(upper(to_hex(n)), 9, '0'), {{office0}} + :k, date '{{day0}}' + :d,
       {{window0}} + 3 * :k + :j,
       (date '{{day0}}' + :d + time '08:00') AT TIME ZONE 'Asia/Jakarta',
       (date '{{day0}}' + :d + time '10:00') AT TIME ZONE 'Asia/Jakarta',
       'online', 'booked', false, '', '', '91' || lpad(n::text, 14, '0'), 'Pemohon Uji',
       date '1990-05-17', true, 'pemohon@example.com', '+6281234567890', 'umrah', 'ordinary',
       'new', 'id', '', 0, '', 0, now(), now()
FROM (SELECT nextval('bench_pgbench_seq') AS n) AS s
RETURNING id AS booking_id \gset
INSERT INTO bookings_notification
  (booking_id, kind, channel, sequence, status, attempts, last_error, created_at,
   next_attempt_at)
VALUES (:booking_id, 'confirmation', 'email', 0, 'pending', 0, '', now(),
        now() + interval '5 minutes'),
       (:booking_id, 'confirmation', 'sms', 0, 'pending', 0, '', now(),
        now() + interval '5 minutes');
COMMIT;
\else
ROLLBACK;
\endif
\else
ROLLBACK;
\endif
