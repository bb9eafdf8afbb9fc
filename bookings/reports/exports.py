"""Monthly applicant counts and waits as rows (header first), written as CSV (streamed) or XLSX."""

import csv
from collections.abc import Iterable, Iterator

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from bookings.models import Booking

from .counts import PURPOSES, MonthCount
from .waits import WaitMonth

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A spreadsheet reads a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def figure_titles() -> list[str]:
    """Return the titles of the count columns, in the order of MonthCount.figures."""
    purposes = dict(Booking.Purpose.choices)
    return [
        _("Applicants served"),
        _("Online (checked in)"),
        _("Walk-ins"),
        _("Priority"),
        _("No-shows"),
        _("Cancelled"),
        _("Total bookings"),
        _("Group members booked"),
        _("Group members checked in"),
        *[_("Served: %(purpose)s") % {"purpose": purposes[p]} for p in PURPOSES],
    ]


def wait_titles() -> list[str]:
    """Return the titles of the wait columns, in the order of WaitMonth.figures."""
    return [
        _("Median wait (minutes)"),
        _("90th percentile wait (minutes)"),
        _("Median service (minutes)"),
        _("Applicants called"),
        _("Did not answer"),
    ]


def header() -> list[str]:
    """Return the column titles, in the active language."""
    return [
        _("Office code"),
        _("Office"),
        _("Year"),
        _("Month"),
        _("Month name"),
        *figure_titles(),
        *wait_titles(),
    ]


def monthly_count_rows(
    counts: Iterable[MonthCount], waits: Iterable[WaitMonth] = ()
) -> Iterator[list]:
    """Yield the header, then one row per office and month: the counts, then the waits.

    The wait cells of a month without a call at the counters are empty.
    """
    yield header()
    measured = {(row.office_code, row.month): row.figures for row in waits}
    blank = (None,) * len(wait_titles())
    for row in counts:
        yield [
            row.office_code,
            row.office_name,
            row.year,
            row.month,
            row.month_name,
            *row.figures,
            *measured.get((row.office_code, row.month), blank),
        ]


def neutralise(value):
    """Return a text cell that a spreadsheet would run as a formula behind an apostrophe.

    Numbers stay numbers, so a negative count is not turned into text.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns what it was given, for streaming csv rows."""

    def write(self, value):
        return value


def csv_lines(rows: Iterable[list]) -> Iterator[str]:
    """Yield each row as one CSV line."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([neutralise(value) for value in row])


def write_csv(rows: Iterable[list], stream) -> None:
    """Write rows as CSV to a text stream."""
    for line in csv_lines(rows):
        stream.write(line)


def write_xlsx(rows: Iterable[list], stream, *, title: str = "") -> None:
    """Write rows as one XLSX worksheet to a binary stream or a path."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))
    for row in rows:
        sheet.append([_xlsx_value(value) for value in row])
    workbook.save(stream)


def _xlsx_value(value):
    if isinstance(value, str):
        # openpyxl refuses control characters that XML 1.0 cannot hold.
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return neutralise(value)


def _sheet_title(title):
    for character in "[]:*?/\\":
        title = title.replace(character, " ")
    return title[:31] or "Sheet1"


def download(rows: Iterable[list], *, file_format: str, filename: str) -> HttpResponse:
    """Return rows as an attachment: CSV streamed line by line, XLSX as one file."""
    disposition = f'attachment; filename="{filename}.{file_format}"'
    if file_format == "csv":
        response = StreamingHttpResponse(csv_lines(rows), content_type=CONTENT_TYPES["csv"])
    else:
        response = HttpResponse(content_type=CONTENT_TYPES["xlsx"])
        write_xlsx(rows, response, title=filename)
    response["Content-Disposition"] = disposition
    return response
