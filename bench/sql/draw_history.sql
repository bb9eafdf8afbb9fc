-- The draw's offices as a system in operation holds them (bench/ballot_draw.py runs this in
-- the draw's database and in its floor's alike): the {{weeks}} weeks before the released
-- one, each window's places booked, two in fifteen in pairs of a group; the days past
-- served, nine in ten checked in and the rest no-shows, the days from today on still booked
-- (earlier releases drew them). Without a history the tables are empty when the planner
-- first sees them, and plans made for empty tables (the foreign-key checks' among them,
-- cached for the session) scan what the draw then writes, a little more with every release.
BEGIN;
CREATE TEMP TABLE history_windows ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY o.id, day, sw.start) AS n, o.id AS office_id, o.timezone,
       sw.id AS window_id, day::date AS day, sw.start, sw."end", sw.capacity,
       rank() OVER (PARTITION BY o.id, day ORDER BY sw.start) - 1 AS nth
FROM offices_office AS o
JOIN offices_servicewindow AS sw ON sw.office_id = o.id
CROSS JOIN generate_series(date '{{first_day}}' - 7 * {{weeks}}, date '{{first_day}}' - 1,
                           interval '1 day') AS day
WHERE o.code LIKE 'draw-%' AND sw.weekday = extract(isodow FROM day) - 1;

INSERT INTO bookings_bookinggroup (code, reschedule_count, link_version, created_at)
SELECT 'H' || lpad((w.n * 3 + k)::text, 11, '0'), 0, 0, w.day - interval '20 days'
FROM history_windows AS w
CROSS JOIN generate_series(0, 2) AS k;

INSERT INTO bookings_booking
  (code, office_id, date, window_id, starts_at, ends_at, channel, status, uses_reserve,
   walk_in_reason, override_reason, nik, full_name, birth_date, birth_date_mismatch, email,
   phone, purpose, passport_type, application_type, language, queue_number,
   reschedule_count, cancel_reason, link_version, created_at, updated_at, group_id)
SELECT 'H' || lpad((w.n * 45 + m)::text, 10, '0'), w.office_id, w.day, w.window_id,
       (w.day + w.start) AT TIME ZONE w.timezone, (w.day + w."end") AT TIME ZONE w.timezone,
       'online',
       CASE WHEN w.day >= current_date THEN 'booked'
            WHEN m % 10 = 9 THEN 'no_show' ELSE 'checked_in' END, false, '', '',
       '36' || lpad((w.n * 45 + m)::text, 14, '0'), 'Pemohon Terdahulu', date '1985-03-12',
       true, 'dulu@example.com', '+6281298765432', 'tourism', 'ordinary', 'new', 'id',
       CASE WHEN w.day >= current_date OR m % 10 = 9 THEN ''
            ELSE 'A' || lpad((w.nth * 45 + m + 1)::text, 3, '0') END,
       0, '', 0, w.day - interval '20 days', w.day, g.id
FROM history_windows AS w
CROSS JOIN generate_series(0, w.capacity - 1) AS m
LEFT JOIN bookings_bookinggroup AS g
  ON m % 15 IN (1, 2) AND g.code = 'H' || lpad((w.n * 3 + m / 15)::text, 11, '0');
COMMIT;
-- Vacuumed too, as autovacuum keeps a database in operation (and as the floor's reset leaves
-- its own): otherwise the draw is timed beside autovacuum working through the rows the
-- bench has just loaded, and reads them first, setting their hint bits.
VACUUM ANALYZE;
