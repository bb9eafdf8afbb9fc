-- Offices, windows and place counters for the pgbench floors (bench/floors.py fills in the
-- double-braced names).
-- pgbench-sellout: office-days as the demo ones (150 a day, 135 online, 3 windows × 45);
-- pgbench-hot: office-days whose places never run out (these two: three days, one for each
-- attempt); pgbench-000…: many office-days whose places never run out.
BEGIN;
INSERT INTO offices_office
  (code, name, city, address, phone, timezone, daily_quota, walk_in_reserve,
   booking_horizon_days, min_days_ahead, open_weekdays)
SELECT code, 'pgbench ' || code, 'Bench', '', '', 'Asia/Jakarta', quota, reserve, 366, 0, '0123456'
FROM (
  SELECT 0 AS rank, 'pgbench-sellout' AS code, 150 AS quota, 15 AS reserve
  UNION ALL SELECT 1, 'pgbench-hot', 100000000, 0
  UNION ALL SELECT 2 + i, 'pgbench-' || lpad(i::text, 3, '0'), 100000000, 0
    FROM generate_series(0, {{offices}} - 1) AS i
) AS o
ORDER BY rank;

INSERT INTO offices_servicewindow (office_id, weekday, start, "end", capacity)
SELECT o.id, 0, w.start, w.start + interval '2 hours',
       CASE WHEN o.code = 'pgbench-sellout' THEN 45 ELSE 100000000 END
FROM offices_office AS o
CROSS JOIN (VALUES (time '08:00'), (time '10:00'), (time '13:00')) AS w(start)
WHERE o.code LIKE 'pgbench-%'
ORDER BY o.id, w.start;

INSERT INTO offices_officeday
  (office_id, date, quota, online_quota, booked, online_booked,
   last_queue_a, last_queue_b, last_queue_p)
SELECT o.id, date '{{day0}}' + d, o.daily_quota, o.daily_quota - o.walk_in_reserve, 0, 0, 0, 0, 0
FROM offices_office AS o
CROSS JOIN generate_series(0, {{days}} - 1) AS d
WHERE o.code LIKE 'pgbench-%' AND (o.code LIKE 'pgbench-0%' OR d < 3);

INSERT INTO offices_windowday (window_id, date, capacity, booked)
SELECT w.id, date '{{day0}}' + d, w.capacity, 0
FROM offices_servicewindow AS w
JOIN offices_office AS o ON o.id = w.office_id
CROSS JOIN generate_series(0, {{days}} - 1) AS d
WHERE o.code LIKE 'pgbench-%' AND (o.code LIKE 'pgbench-0%' OR d < 3);

CREATE SEQUENCE IF NOT EXISTS bench_pgbench_seq;
COMMIT;
ANALYZE offices_office, offices_servicewindow, offices_officeday, offices_windowday;
