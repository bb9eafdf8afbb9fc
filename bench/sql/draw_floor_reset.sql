-- Between two runs of the draw's floor: the written rows gone, the counters at zero.
TRUNCATE bookings_notification, bookings_booking, bookings_bookinggroup CASCADE;
UPDATE offices_officeday SET booked = 0, online_booked = 0;
UPDATE offices_windowday SET booked = 0;
VACUUM ANALYZE;
