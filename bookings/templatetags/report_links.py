"""Template tag that tells whether the user may open the monthly applicant counts."""

from django import template

from offices.access import can_see_monthly_report as _can_see

register = template.Library()


@register.simple_tag(takes_context=True)
def can_see_monthly_report(context) -> bool:
    """Return whether the request's user may open the monthly applicant counts."""
    request = context.get("request")
    return bool(request) and _can_see(request.user)
