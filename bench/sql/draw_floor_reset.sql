-- Between two runs of the draw's floor: the written rows gone (the history kept), the
-- counters at zero.
TRUNCATE bookings_notification;
DELETE FROM bookings_booking WHERE date >= date '{{first_day}}';
DELETE FROM bookings_bookinggroup WHERE code LIKE 'G%';
UPDATE offices_officeday SET booked = 0, online_booked = 0;
UPDATE offices_windowday SET booked = 0;
VACUUM ANALYZE;
