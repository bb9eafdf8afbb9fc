"""Translations: a complete Indonesian catalogue, compiled, and pages in Indonesian by default."""

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from bookings.tests.factories import applicant_data, first_slot, form_url

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def read_po(path):
    """Return the entries of a .po file as dicts: msgctxt, msgid, msgid_plural, msgstr…, flags."""
    entries, entry, key = [], None, None
    for line in [*Path(path).read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if entry and "msgid" in entry:
                entries.append(entry)
            entry, key = None, None
            continue
        entry = entry if entry is not None else {"flags": set()}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#~"):
            entry["obsolete"] = True
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, value = line.split(" ", 1)
            entry[key] = ast.literal_eval(value)
    return [e for e in entries if not e.get("obsolete")]


def translations(entry):
    return [value for key, value in entry.items() if key.startswith("msgstr")]


def compiled_catalogue(entries):
    """Return what msgfmt puts into a .mo for these entries, as gettext's catalogue holds it."""
    catalogue = {}
    for entry in entries:
        if "fuzzy" in entry["flags"] and entry["msgid"]:
            continue
        msgid = entry["msgid"]
        if "msgctxt" in entry:
            msgid = f"{entry['msgctxt']}\x04{msgid}"
        if "msgid_plural" in entry:
            forms = [entry[key] for key in sorted(k for k in entry if k.startswith("msgstr["))]
            if all(forms):
                catalogue.update({(msgid, index): text for index, text in enumerate(forms)})
        elif entry["msgstr"]:
            catalogue[msgid] = entry["msgstr"]
    return catalogue


def po_path(language):
    return LOCALE / language / "LC_MESSAGES" / "django.po"


def test_indonesian_catalogue_is_complete_and_not_fuzzy():
    entries = read_po(po_path("id"))
    assert len(entries) > 400
    untranslated = [e["msgid"] for e in entries[1:] if not all(translations(e))]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []


def test_indonesian_catalogue_has_one_plural_form():
    header = read_po(po_path("id"))[0]["msgstr"]
    assert "Plural-Forms: nplurals=1; plural=0;" in header
    assert "Language: id" in header
    plurals = [e for e in read_po(po_path("id")) if "msgid_plural" in e]
    assert plurals
    assert all([key for key in e if key.startswith("msgstr")] == ["msgstr[0]"] for e in plurals)


def test_indonesian_translations_keep_every_placeholder():
    wrong = []
    for entry in read_po(po_path("id"))[1:]:
        expected = set(PLACEHOLDER.findall(entry.get("msgid_plural", entry["msgid"])))
        for text in translations(entry):
            if set(PLACEHOLDER.findall(text)) != expected:
                wrong.append((entry["msgid"], text))
    assert wrong == []


def test_english_catalogue_has_no_fuzzy_entry():
    entries = read_po(po_path("en"))
    assert "Language: en" in entries[0]["msgstr"]
    assert [e["msgid"] for e in entries if "fuzzy" in e["flags"]] == []


@pytest.mark.parametrize("language", ["id", "en"])
def test_compiled_catalogue_matches_the_po_file(language):
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog
    expected = compiled_catalogue(read_po(po_path(language)))
    # Newer msgfmt leaves the POT-Creation-Date out of the header, for reproducible builds.
    for catalogue in (compiled, expected):
        catalogue[""] = re.sub(r"POT-Creation-Date: .*\n", "", catalogue[""])
    assert compiled == expected, "run: manage.py compilemessages"


@pytest.mark.skipif(not shutil.which("xgettext"), reason="needs GNU gettext (xgettext, msgmerge)")
def test_a_fresh_makemessages_finds_nothing_left_to_translate(tmp_path):
    """Every string marked in the code and templates today has its Indonesian translation."""
    root = Path(settings.BASE_DIR)
    copy = tmp_path / "tree"
    copy.mkdir()
    shutil.copy2(root / "manage.py", copy)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")
    for folder in ("antrean", "bookings", "offices", "templates", "locale"):
        shutil.copytree(root / folder, copy / folder, ignore=ignore)
    env = {**os.environ, "DEBUG": "1", "VAR_DIR": str(tmp_path / "var")}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "id", "--ignore=var"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    entries = read_po(copy / "locale" / "id" / "LC_MESSAGES" / "django.po")
    missing = [e["msgid"] for e in entries[1:] if not all(translations(e))]
    fuzzy = [e["msgid"] for e in entries[1:] if "fuzzy" in e["flags"]]
    assert (missing, fuzzy) == ([], [])


def test_home_page_is_in_indonesian_by_default(client, office):
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="id">' in html
    assert "Daftar antrean paspor" in html
    assert "Pilih Kantor Imigrasi, hari, dan sesi layanan." in html
    assert "Cek pendaftaran" in html
    assert "Book a passport appointment" not in html


def test_home_page_is_in_english_when_the_browser_asks(client, office):
    response = client.get(reverse("home"), headers={"accept-language": "en"})
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Book a passport appointment" in html
    assert "Daftar antrean paspor" not in html


def test_language_switch_keeps_english_for_the_next_pages(client, office):
    response = client.get(reverse("language", args=["en"]), {"next": reverse("home")})
    assert response.status_code == 302
    html = client.get(reverse("booking-lookup")).content.decode()
    assert "Enter your booking code and your NIK" in html
    assert "Bahasa Indonesia" in html  # the switch now offers the way back

    client.get(reverse("language", args=["id"]), {"next": reverse("home")})
    html = client.get(reverse("booking-lookup")).content.decode()
    assert "Masukkan kode pendaftaran dan NIK Anda" in html


def test_calendar_day_shows_sessions_in_indonesian(client, office):
    day, _window = first_slot(office)
    html = client.get(reverse("office-day", args=[office.code, day.isoformat()])).content.decode()
    assert "Pilih sesi layanan" in html
    assert "Sesi 08.00–10.00 WIB" in html
    assert "Sisa kuota 45" in html


def test_form_errors_are_in_the_language_of_the_page(client, office):
    day, window = first_slot(office)
    data = applicant_data(nik="12345", full_name="")

    html = client.post(form_url(office, day, window), data).content.decode()
    assert "Ada yang perlu diperbaiki" in html
    assert "NIK terdiri atas 16 angka." in html
    assert "Masukkan nama lengkap Anda sesuai KTP." in html
    assert "A NIK has exactly 16 digits." not in html

    english = client.post(form_url(office, day, window), data, headers={"accept-language": "en"})
    html = english.content.decode()
    assert "There is a problem" in html
    assert "A NIK has exactly 16 digits." in html
