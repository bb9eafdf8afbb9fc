"""Messages to applicants: the outbox, delivery, rendering, SMS backends, signed links, .ics."""
