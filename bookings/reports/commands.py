"""The export_monthly_counts command: the supervisors' counts as CSV or XLSX from the shell."""

from django.core.management.base import BaseCommand, CommandError

from offices.models import Office

from . import counts, exports, waits


class ExportMonthlyCounts(BaseCommand):
    help = (
        "Export applicant counts and waits per office and month as CSV (to standard output unless "
        "--output is given) or XLSX (needs --output)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="calendar year, e.g. 2017")
        parser.add_argument("--month", type=int, help="only this month, 1 to 12")
        parser.add_argument(
            "--office",
            action="append",
            dest="offices",
            metavar="CODE",
            help="only this office code (repeat for several); every office when left out",
        )
        parser.add_argument("--format", default="csv", help="csv (default) or xlsx")
        parser.add_argument("--output", metavar="FILE", help="write to this file")

    def handle(self, *args, **options):
        year, month, output = options["year"], options["month"], options["output"]
        file_format = options["format"].lower()
        if file_format not in exports.FORMATS:
            raise CommandError(f"Unknown format {options['format']!r}: use csv or xlsx.")
        if file_format == "xlsx" and not output:
            raise CommandError("XLSX is a binary file: give --output FILE.")
        if not counts.FIRST_YEAR <= year <= counts.LAST_YEAR:
            raise CommandError(
                f"The year must be between {counts.FIRST_YEAR} and {counts.LAST_YEAR}."
            )
        if month is not None and not 1 <= month <= 12:
            raise CommandError("The month must be between 1 and 12.")
        chosen = self._offices(options["offices"]) if options["offices"] else None
        found = counts.monthly_counts(year=year, month=month, offices=chosen)
        rows = exports.monthly_count_rows(
            found, waits.wait_months(year=year, month=month, offices=chosen)
        )
        if not output:
            for line in exports.csv_lines(rows):
                self.stdout.write(line, ending="")
            return
        try:
            if file_format == "csv":
                with open(output, "w", newline="", encoding="utf-8") as stream:
                    exports.write_csv(rows, stream)
            else:
                exports.write_xlsx(rows, output, title=f"monthly-applicant-counts-{year}")
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror or exc}") from exc
        self.stdout.write(f"Wrote {len(found)} office-month row(s) to {output}.")

    def _offices(self, codes):
        found = list(Office.objects.filter(code__in=codes))
        unknown = sorted(set(codes) - {office.code for office in found})
        if unknown:
            known = ", ".join(Office.objects.order_by("code").values_list("code", flat=True))
            raise CommandError(f"Unknown office {', '.join(unknown)}. Known offices: {known}.")
        return found
