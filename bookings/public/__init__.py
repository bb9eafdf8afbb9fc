"""The applicant's pages: find an office, pick a day and a window, book, look up, change."""
