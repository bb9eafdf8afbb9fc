"""Page weights on the wire (issue 18): each applicant page in a real Chromium on a phone.

Each page is loaded in a fresh browser context (an empty cache: a first visit), then once more
in the same context (the HTTP cache warm: a later visit). The bytes are those Chromium counts
as received for every request of the load (the CDP's `Network.loadingFinished`
`encodedDataLength`: headers and compressed bodies), until the network is idle. The pages
reached by a form are reached by a browser of their own that fills the form, whose cookies a
fresh context then takes, so their first visit too starts from an empty cache.
"""

import shutil
from pathlib import Path
from urllib.parse import urlsplit

from bench.config import log

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "id-ID",
    "extra_http_headers": {"Accept-Language": "id"},
}
FIRST_VISIT_LIMIT = 60_000  # bytes (KB = 1,000 bytes)
LATER_VISIT_LIMIT = 15_000
TIMEOUT_MS = 30_000

# The applicant who books through the browser: a valid NIK of a region no other run uses.
APPLICANT = {
    "nik": "6401011705900001",
    "full_name": "Siti Aminah",
    "birth_date": "1990-05-17",
    "phone": "+62812640100001",
    "email": "pemohon-wire@example.com",
    "purpose": "umrah",
    "application_type": "new",
    "passport_type": "ordinary",
}


def unavailable():
    """Return why the browser part cannot run here, or None."""
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        return f"no Chromium at {CHROMIUM} (`apt-get install -y chromium`)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed in the virtualenv"
    return None


class WireMeter:
    """Count what crosses the wire for one page's loads, through its DevTools session."""

    def __init__(self, context, page):
        self.requests = {}
        self.asked = {}
        session = context.new_cdp_session(page)
        session.on("Network.requestWillBeSent", self._sent)
        session.on("Network.requestWillBeSentExtraInfo", self._sent_headers)
        session.on("Network.responseReceived", self._response)
        session.on("Network.loadingFinished", self._finished)
        session.on("Network.requestServedFromCache", self._from_cache)
        session.send("Network.enable")

    def _sent(self, event):
        # data: URLs (images inlined in the CSS) cross no wire.
        if event["request"]["url"].startswith(("http:", "https:")):
            self.requests[event["requestId"]] = {
                "path": urlsplit(event["request"]["url"]).path,
                "type": event.get("type", ""),
                "bytes": 0,
                "cached": False,
                "encoding": "",
            }

    def _sent_headers(self, event):
        # The headers as sent on the wire: Accept-Encoding is added by the network stack.
        self.asked[event["requestId"]] = {k.lower(): v for k, v in event["headers"].items()}

    def _request(self, request_id):
        return self.requests.get(request_id, {})

    def _response(self, event):
        found = self._request(event["requestId"])
        if not found:
            return
        response = event["response"]
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        found.update(
            type=event.get("type", ""),
            status=response.get("status"),
            encoding=headers.get("content-encoding", ""),
            cached=found["cached"] or response.get("fromDiskCache", False),
        )

    def _finished(self, event):
        found = self._request(event["requestId"])
        if found:
            found["bytes"] = int(event["encodedDataLength"])

    def _from_cache(self, event):
        found = self._request(event["requestId"])
        if found:
            found["cached"] = True

    def load(self, page, url):
        """Load `url` and return what its load took: bytes, requests, the page's encoding."""
        self.requests, self.asked = {}, {}
        page.goto(url, wait_until="networkidle", timeout=TIMEOUT_MS)
        page.wait_for_timeout(300)  # the last DevTools events of the load
        for request_id, found in self.requests.items():
            found["asked"] = self.asked.get(request_id, {}).get("accept-encoding", "")
        return visit_figures(list(self.requests.values()))


def visit_figures(requests):
    """Return a load's total bytes and requests, and the document's Content-Encoding."""
    documents = [r for r in requests if r["type"] == "Document"]
    return {
        "bytes": sum(r["bytes"] for r in requests),
        "requests": len(requests),
        "from_cache": sum(r["cached"] for r in requests),
        "encoding": documents[-1]["encoding"] if documents else "",
        "accept_encoding": documents[-1].get("asked", "") if documents else "",
        "status": documents[-1].get("status") if documents else None,
        "resources": sorted(
            (
                [r["path"], r["type"], r["bytes"], r["encoding"], r["cached"]]
                for r in requests
                if r["path"]
            ),
            key=lambda r: -r[2],
        ),
    }


def _fill(page, values):
    """Fill the applicant's fields of the page's form, whatever widget each one is."""
    for name, value in values.items():
        field = page.locator(f'form [name="{name}"], form [name$="-{name}"]').first
        tag = field.evaluate("e => e.tagName + ':' + (e.type || '')")
        if tag.startswith("SELECT"):
            field.select_option(value)
        elif tag.endswith(":radio"):
            page.locator(f'form [name="{name}"][value="{value}"]').first.check()
        else:
            field.fill(value)


def page_weights(base_url, office, day, window):
    """Return each applicant page's first and later visit, as a phone in Indonesian loads it."""
    from playwright.sync_api import sync_playwright

    book = f"/offices/{office}/{day}/{window}/book/"
    plain = {
        "home": "/",
        "office calendar": f"/offices/{office}/",
        "day page": f"/offices/{office}/{day}/",
        "booking form": book,
        "look-up page": "/bookings/lookup/",
    }
    found = {}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for name, path in plain.items():
                found[name] = _visits(browser, base_url + path)
            # A browser of its own fills the form and confirms; fresh contexts take its cookies.
            applicant = browser.new_context(**PHONE)
            page = applicant.new_page()
            page.goto(base_url + book, timeout=TIMEOUT_MS)
            _fill(page, APPLICANT)
            page.locator('form:has([name$="nik"]) button[type="submit"]').first.click()
            page.wait_for_url("**/check/", timeout=TIMEOUT_MS)
            found["check page"] = _visits(browser, page.url, applicant.storage_state())
            page.locator('main form[method="post"] button[type="submit"]').first.click()
            page.wait_for_url("**/bookings/**", timeout=TIMEOUT_MS)
            found["booking page"] = _visits(browser, page.url, applicant.storage_state())
            applicant.close()
        finally:
            browser.close()
    for name, visits in found.items():
        log(
            f"  wire {name}: first {visits['first']['bytes']:,} B in "
            f"{visits['first']['requests']} requests, later {visits['later']['bytes']:,} B "
            f"({visits['first']['encoding'] or 'uncompressed'})"
        )
    return found


def _visits(browser, url, storage_state=None):
    """Load a page in a fresh context, then again in the same one."""
    context = browser.new_context(**PHONE, storage_state=storage_state)
    try:
        page = context.new_page()
        meter = WireMeter(context, page)
        return {"path": urlsplit(url).path, "first": meter.load(page, url),
                "later": meter.load(page, url)}  # fmt: skip
    finally:
        context.close()


def wire(stack, plan, office="palembang"):
    """Measure the page weights on the run's gunicorn, or say why the browser part is skipped."""
    reason = unavailable()
    if reason:
        log(f"wire: skipped: {reason}")
        return {"skipped": reason}
    day = plan["offices"][office]["days"][-1]  # no rush books it (bench.rush_runs)
    window = day["windows"][0][0]
    log(f"wire: page weights in Chromium, {office} {day['date']}")
    from playwright.sync_api import Error as BrowserError

    try:
        return page_weights(f"http://127.0.0.1:{stack.port}", office, day["date"], window)
    except BrowserError as exc:  # a page the browser could not load or fill: say so, go on
        message = str(exc).strip().splitlines()[0]
        log(f"wire: failed: {message}")
        return {"failed": message}
