"""The office staff's pages in admin: today's queue, check-in, walk-ins, queue tickets."""
