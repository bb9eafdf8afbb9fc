"""deploy/: the systemd units and the nginx site pass their tools' checks; nginx does its job."""

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from antrean.tests import BASE_DIR

DEPLOY = BASE_DIR / "deploy"
SITE = (DEPLOY / "nginx" / "antrean.conf").read_text(encoding="utf-8")
HASHED_CSS = "css/app.0123456789ab.css"


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    for unit in units:
        # The units name /srv/antrean/.venv; verify checks that the programs exist.
        text = unit.read_text(encoding="utf-8")
        (tmp_path / unit.name).write_text(
            text.replace("/srv/antrean/.venv", str(BASE_DIR / ".venv"))
        )

    done = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / unit.name) for unit in units)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert len(units) == 4
    # An unknown key is only a warning, with exit code 0: any output is a failure here.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


class Echo(BaseHTTPRequestHandler):
    """A web machine that answers every request with the headers it was sent, as JSON."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps({"path": self.path, "headers": dict(self.headers)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def site_for_test(folder, *, upstream_port, http_port, https_port):
    """Return the site with this machine's ports, a throw-away certificate and temp paths."""
    site = re.sub(
        r"upstream antrean_web \{.*?\n\}",
        f"upstream antrean_web {{\n    server 127.0.0.1:{upstream_port};\n}}",
        SITE,
        flags=re.DOTALL,
    )
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "/etc/letsencrypt/live/antrean.example.go.id/fullchain.pem": str(folder / "cert.pem"),
        "/etc/letsencrypt/live/antrean.example.go.id/privkey.pem": str(folder / "key.pem"),
        "/var/log/nginx/": f"{folder}/",
        "root /srv/antrean;": f"root {folder};",
    }
    for old, new in replacements.items():
        assert old in site, f"the site no longer says {old!r}"
        site = site.replace(old, new)
    return "\n".join(line for line in site.splitlines() if not line.startswith("    listen [::]"))


@pytest.fixture
def nginx(tmp_path):
    """nginx with the site on loopback ports in front of an Echo web machine; its base URL."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(binary):
        pytest.skip("nginx is not installed (apt-get install nginx)")
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed: no certificate for the TLS server")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=antrean.example.go.id",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    static = tmp_path / "static" / "css"
    static.mkdir(parents=True)
    (static / "app.0123456789ab.css").write_text("body{}")
    (static / "app.0123456789ab.css.gz").write_bytes(b"\x1f\x8b not really")

    backend = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    https_port = free_port()
    site = site_for_test(
        tmp_path,
        upstream_port=backend.server_address[1],
        http_port=free_port(),
        https_port=https_port,
    )
    (tmp_path / "site.conf").write_text(site)
    # Started as root, nginx's workers would be `nobody`, who cannot enter pytest's folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (tmp_path / "nginx.conf").write_text(
        f"{user}pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  include /etc/nginx/mime.types;\n  include {tmp_path}/site.conf;\n}}\n"
    )
    command = [binary, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr

    process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", https_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"https://127.0.0.1:{https_port}"
    finally:
        process.send_signal(signal.SIGQUIT)
        process.wait(timeout=10)
        backend.shutdown()


def ask(url, *, method="GET", headers=None):
    """Return (status, headers, body) of a request over TLS to the test's own certificate."""
    context = ssl._create_unverified_context()  # noqa: S323 - our throw-away certificate
    request = urllib.request.Request(url, method=method, headers=headers or {})
    if method == "POST":
        request.data = b"{}"
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_the_app_hears_https_and_the_client_address_nginx_saw_never_the_clients_claim(nginx):
    status, _, body = ask(f"{nginx}/offices/palembang/", headers={"X-Real-IP": "6.6.6.6"})

    sent = json.loads(body)["headers"]
    assert status == 200
    assert (sent["X-Forwarded-Proto"], sent["X-Real-IP"]) == ("https", "127.0.0.1")


def test_a_flood_of_bookings_from_one_address_is_turned_away_with_429_pages_are_not(nginx):
    statuses = [ask(f"{nginx}/api/v1/bookings", method="POST")[0] for _ in range(30)]

    # The burst (20) and the first request pass at once, then 429.
    assert statuses[:21] == [200] * 21
    assert set(statuses[21:]) == {429}
    assert {ask(f"{nginx}/api/v1/offices")[0] for _ in range(30)} == {200}
    assert ask(f"{nginx}/offices/palembang/2030-01-07/7/book/", method="POST")[0] == 429


def test_hashed_static_files_come_from_disk_cached_for_ten_years_compressed(nginx):
    status, headers, body = ask(f"{nginx}/static/{HASHED_CSS}", headers={"Accept-Encoding": "gzip"})

    assert status == 200
    assert headers["Cache-Control"] == "max-age=315360000, public, immutable"
    assert headers["Content-Encoding"] == "gzip"
    assert body == b"\x1f\x8b not really"


def test_a_static_file_missing_on_this_machine_is_asked_of_the_app(nginx):
    status, _, body = ask(f"{nginx}/static/css/app.ba9876543210.css")

    assert status == 200
    assert json.loads(body)["path"] == "/static/css/app.ba9876543210.css"
