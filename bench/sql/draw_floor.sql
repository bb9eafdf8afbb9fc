-- The draw's writes as set-based SQL, in one transaction (bench/ballot_draw.py times it): a
-- group for each winning entry of two or more, a booking for each of their applicants, the
-- two confirmations (e-mail, SMS) of each winning entry, then the office-day and window-day
-- counters raised once each by what was booked there. The same rows as the draw writes,
-- without the entries' own results.
BEGIN;
WITH grouped AS (
  INSERT INTO bookings_bookinggroup (code, reschedule_count, link_version, created_at)
  SELECT 'G' || lpad(n::text, 11, '0'), 0, 0, now()
  FROM draw_winners
  WHERE size > 1
  RETURNING id, code
), booked AS (
  INSERT INTO bookings_booking
    (code, office_id, date, window_id, starts_at, ends_at, channel, status, uses_reserve,
     walk_in_reason, override_reason, nik, full_name, birth_date, birth_date_mismatch, email,
     phone, purpose, passport_type, application_type, language, queue_number,
     reschedule_count, cancel_reason, link_version, created_at, updated_at, group_id)
  SELECT 'Q' || lpad(w.n::text, 8, '0') || m, o.id, w.day, sw.id,
         (w.day + sw.start) AT TIME ZONE o.timezone, (w.day + sw."end") AT TIME ZONE o.timezone,
         'online', 'booked', false, '', '', '35' || lpad((5 * w.n + m)::text, 14, '0'),
         'Pemohon Undian', date '1990-05-17', true, 'undian@example.com', '+6281234567890',
         'umrah', 'ordinary', 'new', 'id', '', 0, '', 0, now(), now(), g.id
  FROM draw_winners AS w
  JOIN offices_office AS o ON o.code = 'draw-' || lpad(w.office_no::text, 3, '0')
  JOIN offices_servicewindow AS sw
    ON sw.office_id = o.id AND sw.weekday = extract(isodow FROM w.day) - 1
   AND sw.start = w.start
  CROSS JOIN LATERAL generate_series(0, w.size - 1) AS m
  LEFT JOIN grouped AS g ON g.code = 'G' || lpad(w.n::text, 11, '0')
  RETURNING id, group_id, code
)
INSERT INTO bookings_notification
  (booking_id, group_id, kind, channel, sequence, status, attempts, last_error, created_at,
   next_attempt_at)
SELECT CASE WHEN b.group_id IS NULL THEN b.id END, b.group_id, 'confirmation', c.channel, 0,
       'pending', 0, '', now(), now() + interval '5 minutes'
FROM booked AS b
CROSS JOIN (VALUES ('email'), ('sms')) AS c(channel)
WHERE right(b.code, 1) = '0';

UPDATE offices_officeday AS d
SET booked = d.booked + t.taken, online_booked = d.online_booked + t.taken
FROM (
  SELECT o.id AS office_id, w.day, sum(w.size) AS taken
  FROM draw_winners AS w
  JOIN offices_office AS o ON o.code = 'draw-' || lpad(w.office_no::text, 3, '0')
  GROUP BY o.id, w.day
) AS t
WHERE d.office_id = t.office_id AND d.date = t.day;

UPDATE offices_windowday AS d
SET booked = d.booked + t.taken
FROM (
  SELECT sw.id AS window_id, w.day, sum(w.size) AS taken
  FROM draw_winners AS w
  JOIN offices_office AS o ON o.code = 'draw-' || lpad(w.office_no::text, 3, '0')
  JOIN offices_servicewindow AS sw
    ON sw.office_id = o.id AND sw.weekday = extract(isodow FROM w.day) - 1
   AND sw.start = w.start
  GROUP BY sw.id, w.day
) AS t
WHERE d.window_id = t.window_id AND d.date = t.day;
COMMIT;
