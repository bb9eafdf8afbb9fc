"""The embedded defaults keep personal data under var/: readable by its owner only."""

import os
import stat
import subprocess

from antrean import run
from antrean.tests import BASE_DIR


def test_make_setup_makes_var_and_its_folders_private():
    result = subprocess.run(
        ["make", "-s", "setup"], cwd=BASE_DIR, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    for folder in ("var", "var/mail", "var/sms", "var/celery"):
        assert stat.S_IMODE((BASE_DIR / folder).stat().st_mode) == 0o700, folder


def test_make_runs_processes_create_files_for_their_owner_only(tmp_path, monkeypatch):
    """The three processes inherit run.main's umask: SQLite and mail files come out 0600."""
    made = []

    class Exited:
        returncode = 0

        def __init__(self, command, cwd):
            probe = tmp_path / f"made-{len(made)}"
            probe.write_bytes(b"")  # what a child would create, under the umask it inherits
            made.append(probe)

        def poll(self):
            return 0

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(run.subprocess, "Popen", Exited)
    monkeypatch.setattr(run.signal, "signal", lambda *args: None)
    previous = os.umask(0o022)
    try:
        run.main()  # every process exits at once: main stops
    finally:
        os.umask(previous)
    assert [stat.S_IMODE(path.stat().st_mode) for path in made] == [0o600] * 3
