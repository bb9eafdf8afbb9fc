-- The monthly report's data: offices, each with 3 windows on 5 weekdays, and bookings
-- spread over the days from a first day, made in bulk by INSERT … SELECT generate_series
-- (bench/phases.py fills in the double-braced names). The tables and indexes are the app's
-- own, made by `manage.py migrate`: the plain indexes are dropped for the load and made again
-- from their own definitions afterwards (faster than updating them row by row).
SET maintenance_work_mem = '256MB';
BEGIN;
INSERT INTO offices_office
  (code, name, city, address, phone, timezone, daily_quota, walk_in_reserve,
   booking_horizon_days, min_days_ahead, open_weekdays)
SELECT 'kanim-' || lpad(i::text, 3, '0'), 'Kantor Imigrasi Kelas I Nomor ' || lpad(i::text, 3, '0'),
       'Kota ' || i, '', '', (ARRAY['Asia/Jakarta', 'Asia/Makassar', 'Asia/Jayapura'])[i % 3 + 1],
       150, 15, 30, 1, '01234'
FROM generate_series(1, {{offices}}) AS i
ORDER BY i;

INSERT INTO offices_servicewindow (office_id, weekday, start, "end", capacity)
SELECT o.id, wd, w.start, w.start + interval '2 hours', 45
FROM offices_office AS o
CROSS JOIN generate_series(0, 4) AS wd
CROSS JOIN (VALUES (time '08:00'), (time '10:00'), (time '13:00')) AS w(start)
ORDER BY o.id, wd, w.start;
COMMIT;

-- Rows are made consistent here, so the foreign-key triggers are skipped while loading.
SET session_replication_role = replica;
BEGIN;
CREATE TEMP TABLE saved_indexes AS
SELECT i.indexname, i.indexdef
FROM pg_indexes AS i
WHERE i.tablename = 'bookings_booking'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conname = i.indexname);
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT indexname FROM saved_indexes LOOP
    EXECUTE format('DROP INDEX %I', r.indexname);
  END LOOP;
END $$;

CREATE TEMP TABLE office_map AS
SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, timezone,
       (SELECT min(w.id) FROM offices_servicewindow AS w WHERE w.office_id = o.id) AS window0
FROM offices_office AS o;

INSERT INTO bookings_booking
  (code, office_id, date, window_id, starts_at, ends_at, channel, status, uses_reserve,
   walk_in_reason, override_reason, nik, full_name, birth_date, birth_date_mismatch, email,
   phone, purpose, passport_type, application_type, language, queue_number, reschedule_count,
   cancel_reason, created_at, updated_at, checked_in_at, cancelled_at)
SELECT
  'R' || lpad(upper(to_hex(g.i)), 9, '0'),
  m.id,
  g.day,
  CASE WHEN g.walk_in THEN NULL ELSE m.window0 + (g.i / {{offices}}) % 15 END,
  (g.day + time '08:00') AT TIME ZONE m.timezone,
  (g.day + time '10:00') AT TIME ZONE m.timezone,
  CASE WHEN g.walk_in THEN 'walk_in' ELSE 'online' END,
  g.status,
  g.walk_in AND g.i % 3 = 0,
  CASE WHEN g.walk_in
       THEN (ARRAY['elderly', 'disability', 'pregnant', 'child', 'sick', 'far_away', 'other'])[g.i % 7 + 1]
       ELSE '' END,
  '',
  (ARRAY['16', '31', '73', '91'])[g.i % 4 + 1] || lpad(g.i::text, 14, '0'),
  'Pemohon ' || g.i,
  date '1960-01-01' + (g.i % 15000),
  false,
  'pemohon' || g.i || '@example.com',
  '+62812' || lpad((g.i % 100000000)::text, 8, '0'),
  (ARRAY['umrah', 'umrah', 'umrah', 'hajj', 'tourism', 'work', 'study', 'family', 'other'])[g.i % 9 + 1],
  CASE WHEN g.i % 5 = 0 THEN 'electronic' ELSE 'ordinary' END,
  CASE WHEN g.i % 4 = 0 THEN 'renewal' ELSE 'new' END,
  'id', '', 0, CASE WHEN g.status = 'cancelled' THEN 'applicant' ELSE '' END,
  (g.day - 10 + time '09:00') AT TIME ZONE m.timezone,
  (g.day + time '09:00') AT TIME ZONE m.timezone,
  CASE WHEN g.status = 'checked_in' THEN (g.day + time '08:30') AT TIME ZONE m.timezone END,
  CASE WHEN g.status = 'cancelled' THEN (g.day - 2 + time '12:00') AT TIME ZONE m.timezone END
FROM (
  SELECT i,
         date '{{start}}' + ((i::bigint * 7919) % {{days}})::int AS day,
         (i % 100) < 12 AS walk_in,
         CASE WHEN (i % 100) < 12 THEN 'checked_in'
              WHEN (i * 37) % 100 < 78 THEN 'checked_in'
              WHEN (i * 37) % 100 < 88 THEN 'no_show'
              ELSE 'cancelled' END AS status
  FROM generate_series(1, {{rows}}) AS i
) AS g
JOIN office_map AS m ON m.k = g.i % {{offices}};

DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT indexdef FROM saved_indexes LOOP
    EXECUTE r.indexdef;
  END LOOP;
END $$;
COMMIT;
SET session_replication_role = DEFAULT;
VACUUM (ANALYZE) bookings_booking;
VACUUM (ANALYZE) offices_office;
