-- The draw's floor, set up in a fresh migrated database (bench/ballot_draw.py fills in the
-- double-braced names): the offices as bench.steps makes them for the draw (3 windows of 45
-- on 5 weekdays, 150 a day of which 135 online), the counter rows of the released days, and
-- the winning entries of the draw (office, day, session, size), loaded from its CSV.
BEGIN;
INSERT INTO offices_office
  (code, name, city, address, phone, timezone, daily_quota, walk_in_reserve,
   booking_horizon_days, min_days_ahead, open_weekdays)
SELECT 'draw-' || lpad(i::text, 3, '0'), 'Kantor Imigrasi Undian ' || lpad(i::text, 3, '0'),
       'Bench', '', '', (ARRAY['Asia/Jakarta', 'Asia/Makassar', 'Asia/Jayapura'])[i % 3 + 1],
       150, 15, 30, 1, '01234'
FROM generate_series(0, {{offices}} - 1) AS i
ORDER BY i;

INSERT INTO offices_servicewindow (office_id, weekday, start, "end", capacity)
SELECT o.id, wd, w.start, w.start + interval '2 hours', 45
FROM offices_office AS o
CROSS JOIN generate_series(0, 4) AS wd
CROSS JOIN (VALUES (time '08:00'), (time '10:00'), (time '13:00')) AS w(start)
WHERE o.code LIKE 'draw-%'
ORDER BY o.id, wd, w.start;

INSERT INTO offices_officeday
  (office_id, date, quota, online_quota, booked, online_booked,
   last_queue_a, last_queue_b, last_queue_p)
SELECT o.id, date '{{first_day}}' + d, 150, 135, 0, 0, 0, 0, 0
FROM offices_office AS o
CROSS JOIN generate_series(0, {{days}} - 1) AS d
WHERE o.code LIKE 'draw-%';

INSERT INTO offices_windowday (window_id, date, capacity, booked)
SELECT w.id, date '{{first_day}}' + d, w.capacity, 0
FROM offices_servicewindow AS w
JOIN offices_office AS o ON o.id = w.office_id
CROSS JOIN generate_series(0, {{days}} - 1) AS d
WHERE o.code LIKE 'draw-%' AND w.weekday = extract(isodow FROM date '{{first_day}}' + d) - 1;

-- One row per winning entry: its number (distinct over the run), office, day, session, size.
CREATE TABLE draw_winners (n integer PRIMARY KEY, office_no integer, day date, start time,
                           size integer);
COMMIT;
\copy draw_winners (n, office_no, day, start, size) FROM '{{winners}}' WITH (FORMAT csv)
ANALYZE;
