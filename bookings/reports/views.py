"""The monthly applicant counts page in admin, with its chart and CSV and XLSX downloads."""

from django import forms
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.translation import gettext_lazy as _

from offices import clock
from offices.access import can_see_monthly_report, is_supervisor, offices_for

from . import counts, exports, waits

CHART_WIDTH = 720
CHART_HEIGHT = 260
CHART_TOP = 24  # room for the value above the tallest bar
CHART_BOTTOM = 28  # room for the month labels
# One small chart of waits per office, all on the same scale so that offices compare.
WAITS_WIDTH = 360
WAITS_HEIGHT = 170
WAITS_LEFT = 30  # room for the minutes on the axis
WAITS_TOP = 10
WAITS_BOTTOM = 22  # room for the month labels


class MonthlyReportForm(forms.Form):
    year = forms.IntegerField(
        label=_("Year"), min_value=counts.FIRST_YEAR, max_value=counts.LAST_YEAR
    )
    offices = forms.ModelMultipleChoiceField(
        label=_("Offices"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to see every office you may see."),
    )
    format = forms.ChoiceField(
        choices=[("", "HTML"), *[(f, f.upper()) for f in exports.FORMATS]],
        required=False,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offices"].queryset = offices


@staff_member_required
def monthly_report(request):
    """Show a year's applicant counts by office and month, or download them as CSV or XLSX."""
    if not can_see_monthly_report(request.user):
        raise PermissionDenied
    supervisor = is_supervisor(request.user)
    offices = offices_for(request.user)
    data = request.GET.copy()
    data.setdefault("year", str(timezone.localtime(clock.now()).year))
    form = MonthlyReportForm(data, offices=offices)
    context = {
        **admin.site.each_context(request),
        "is_nav_sidebar_enabled": False,  # the wide table needs the room
        "title": _("Monthly applicant counts"),
        "form": form,
    }
    if not form.is_valid():
        return render(request, "bookings/reports/monthly.html", context, status=400)
    year = form.cleaned_data["year"]
    # Nothing ticked: every office the user may see (no filter at all for a supervisor).
    chosen = form.cleaned_data["offices"] or (None if supervisor else offices)
    found = counts.monthly_counts(year=year, offices=chosen)
    measured = waits.wait_months(year=year, offices=chosen)
    file_format = form.cleaned_data["format"]
    if file_format:
        # Build the rows now, while the request's language is active.
        rows = list(exports.monthly_count_rows(found, measured))
        return exports.download(
            rows, file_format=file_format, filename=f"monthly-applicant-counts-{year}"
        )
    query = data.copy()
    query.pop("format", None)
    context.update(
        year=year,
        groups=counts.by_office(found),
        grand_total=counts.total(found),
        columns=exports.figure_titles(),
        chart=_bar_chart(counts.served_per_month(found)),
        ballots=counts.ballot_months(year=year, offices=chosen),
        closures=counts.closure_months(year=year, offices=chosen),
        waits=_wait_charts(waits.by_office(measured)),
        wait_columns=exports.wait_titles(),
        query=query,
    )
    return render(request, "bookings/reports/monthly.html", context)


def _bar_chart(served: dict[int, int]) -> dict:
    """Return the geometry of a bar chart of served applicants per month, for an inline SVG."""
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    slot = CHART_WIDTH / len(served)
    bar_width = slot * 0.7
    highest = max(served.values()) or 1
    bars = []
    for month, value in served.items():
        height = round(plot_height * value / highest, 1)
        x = round((month - 1) * slot + (slot - bar_width) / 2, 1)
        y = round(CHART_TOP + plot_height - height, 1)
        bars.append(
            {
                "month": str(MONTHS_3[month]).capitalize(),
                "value": value,
                "x": x,
                "y": y,
                "width": round(bar_width, 1),
                "height": height,
                "centre": round(x + bar_width / 2, 1),
                "value_y": round(y - 6, 1),
            }
        )
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "baseline": CHART_TOP + plot_height,
        "label_y": CHART_HEIGHT - 8,
        "bars": bars,
        "total": sum(served.values()),
    }


def _wait_charts(groups) -> dict:
    """Return, for each office, its twelve months of waits and the geometry of a chart of their
    median and 90th percentile for an inline SVG: bars on one scale shared by every office."""
    plot_width = WAITS_WIDTH - WAITS_LEFT
    plot_height = WAITS_HEIGHT - WAITS_TOP - WAITS_BOTTOM
    baseline = WAITS_TOP + plot_height
    highest = max((row.p90_wait or 0 for _first, rows in groups for row in rows), default=0)
    top = max(10, -(-highest // 10) * 10)  # whole tens of minutes, at least ten
    slot = plot_width / 12

    def y(minutes):
        return round(baseline - plot_height * minutes / top, 1)

    offices = []
    for first, rows in groups:
        bars = []
        for row in rows:
            left = WAITS_LEFT + (row.month - 1) * slot
            bar = {
                "row": row,
                "label": str(MONTHS_3[row.month]).capitalize(),
                "centre": round(left + slot / 2, 1),
            }
            if row.median_wait is not None:
                bar.update(
                    p90_x=round(left + slot * 0.15, 1),
                    p90_width=round(slot * 0.7, 1),
                    p90_y=y(row.p90_wait),
                    p90_height=round(baseline - y(row.p90_wait), 1),
                    median_x=round(left + slot * 0.3, 1),
                    median_width=round(slot * 0.4, 1),
                    median_y=y(row.median_wait),
                    median_height=round(baseline - y(row.median_wait), 1),
                )
            bars.append(bar)
        offices.append({"office": first, "bars": bars})
    return {
        "width": WAITS_WIDTH,
        "height": WAITS_HEIGHT,
        "left": WAITS_LEFT,
        "right": WAITS_WIDTH,
        "baseline": baseline,
        "label_y": WAITS_HEIGHT - 6,
        "none_y": baseline - 4,
        "ticks": [
            {"minutes": minutes, "y": y(minutes), "text_y": round(y(minutes) + 4, 1)}
            for minutes in (0, top // 2, top)
        ],
        "tick_x": WAITS_LEFT - 4,
        "offices": offices,
    }


# Included by antrean/urls.py under admin/reports/monthly/, before the admin's own URLs.
urlpatterns = [path("", monthly_report, name="monthly-report")]
