"""Print what a ballot release publishes, as JSON: what bookings/draw.py checks."""

import json

from django.core.management.base import BaseCommand, CommandError

from bookings import ballots
from bookings.models import Release


class Command(BaseCommand):
    help = "Print a ballot release's published JSON: python manage.py release_json ID"

    def add_arguments(self, parser):
        parser.add_argument("release", type=int, help="The release's id (admin, ballot releases).")

    def handle(self, *args, release, **options):
        found = Release.objects.select_related("office").filter(pk=release).first()
        if found is None:
            raise CommandError(f"No ballot release has the id {release}.")
        self.stdout.write(json.dumps(ballots.published(found), indent=1, ensure_ascii=False))
