"""Which offices a staff user may see: supervisors all of them, office staff their own."""

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
    return user.groups.filter(name=SUPERVISOR_GROUP).exists()


def offices_for(user) -> QuerySet[Office]:
    """Return the offices whose data a user may see and change."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return Office.objects.none()
    if is_supervisor(user):
        return Office.objects.all()
    return Office.objects.filter(staff=user)
