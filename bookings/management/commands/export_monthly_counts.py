"""Export the monthly applicant counts of a year (or one month) as CSV or XLSX."""

from bookings.reports.commands import ExportMonthlyCounts as Command

__all__ = ["Command"]
