"""Seed the passport fees of PP 28/2019; staff change them in admin when the law changes."""

from django.db import migrations

FEES = [
    ("ordinary", 350_000, "PP 28/2019: paspor biasa 48 halaman"),
    ("electronic", 650_000, "PP 28/2019: paspor elektronik 48 halaman"),
]


def add_fees(apps, schema_editor):
    PassportFee = apps.get_model("offices", "PassportFee")
    for passport_type, amount, basis in FEES:
        PassportFee.objects.get_or_create(
            passport_type=passport_type, defaults={"amount": amount, "legal_basis": basis}
        )


class Migration(migrations.Migration):
    dependencies = [("offices", "0001_initial")]
    operations = [migrations.RunPython(add_fees, migrations.RunPython.noop)]
