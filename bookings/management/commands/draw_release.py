"""Draw a closed ballot release by hand, with the public value as it was announced."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from bookings import ballots
from bookings.models import Release


class Command(BaseCommand):
    help = "Draw a closed ballot release (a late draw): python manage.py draw_release ID VALUE"

    def add_arguments(self, parser):
        parser.add_argument("release", type=int, help="The release's id (admin, ballot releases).")
        parser.add_argument("public_value", help="The public value, exactly as announced.")

    def handle(self, *args, release, public_value, **options):
        found = Release.objects.filter(pk=release).first()
        if found is None:
            raise CommandError(f"No ballot release has the id {release}.")
        try:
            drawn = ballots.draw_release(release=found, public_value=public_value)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        won = sum(o["result"] == "won" for o in drawn.outcome.values())
        waiting = sum(o["result"] == "waiting" for o in drawn.outcome.values())
        self.stdout.write(
            f"Drawn: {won} entries won a place, {waiting} wait; seed {drawn.seed}, "
            f"public value {drawn.public_value}."
        )
