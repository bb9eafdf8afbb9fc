"""Bookings: the rules that hold quotas, the applicant's pages, the API and messages."""
