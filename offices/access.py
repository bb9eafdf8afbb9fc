"""Which offices a staff user may see (supervisors all, office staff their own) and change.

Only an office's own staff change its plan and its bookings, whatever else they are; a
supervisor's one write elsewhere, a walk-in over a full day, is decided by the service.
"""

from django.db.models import QuerySet

from .models import Office

SUPERVISOR_GROUP = "Supervisor"
OFFICE_STAFF_GROUP = "Office staff"


def is_supervisor(user) -> bool:
    """Return whether a user reads every office's data."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    # Asked several times a request (menus, the report, its offices): kept on the user object.
    if not hasattr(user, "_is_supervisor"):
        user._is_supervisor = user.groups.filter(name=SUPERVISOR_GROUP).exists()
    return user._is_supervisor


def offices_for(user) -> QuerySet[Office]:
    """Return the offices whose data a user may see and change."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return Office.objects.none()
    if is_supervisor(user):
        return Office.objects.all()
    return Office.objects.filter(staff=user)


def offices_to_change(user) -> QuerySet[Office]:
    """Return the offices whose plan and bookings a user may change: their own (a superuser's,
    all)."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return Office.objects.none()
    if user.is_superuser:
        return Office.objects.all()
    return Office.objects.filter(staff=user)


def may_change_office(user, office) -> bool:
    """Return whether a user may change an office's plan and bookings."""
    return offices_to_change(user).filter(pk=office.pk).exists()


def can_see_monthly_report(user) -> bool:
    """Return whether a user may open the monthly counts: supervisors, and staff of an office."""
    return is_supervisor(user) or offices_for(user).exists()


def _once(request, name, compute):
    """Return compute(), kept on the request under `name`: asked several times a request."""
    if not hasattr(request, name):
        setattr(request, name, compute())
    return getattr(request, name)


def staff_offices(request):
    """Return the offices the request's user may see, once per request."""
    return _once(request, "_staff_offices", lambda: offices_for(request.user))


def staff_office_ids(request) -> set:
    return _once(
        request,
        "_staff_office_ids",
        lambda: set(staff_offices(request).values_list("pk", flat=True)),
    )


def changeable_offices(request):
    """Return the offices the request's user may change, once per request."""
    return _once(request, "_changeable_offices", lambda: offices_to_change(request.user))


def changeable_office_ids(request) -> set:
    return _once(
        request,
        "_changeable_office_ids",
        lambda: set(changeable_offices(request).values_list("pk", flat=True)),
    )
