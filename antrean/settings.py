"""Settings for Antrean: one module, chosen by environment variables (see .env.example)."""

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Where the embedded defaults keep their files: SQLite, broker folders, mail, SMS, logins.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set the SECRET_KEY environment variable (or DEBUG=1 for development)."
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "ninja",
    "simple_history",
    "axes",
    "csp",
    "django_ratelimit",
    "offices",
    "bookings",
]

MIDDLEWARE = [
    # First: times everything Django does for a request, labelled by view name (/metrics).
    "antrean.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Pages and JSON compressed for clients that accept it (static files come compressed
    # already); with Django's padding against BREACH.
    "django.middleware.gzip.GZipMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "antrean.urls"
WSGI_APPLICATION = "antrean.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL names another one.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'antrean.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take the lock when the transaction begins, so counters stay exact.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 30, "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # A health check costs a round trip per request (a fifth of a rejected booking's time in
    # bench/RESULTS.md); without it, a worker's first request after a database restart fails.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The shared cache (the waiting room's queue, the level behind "kept" below), and one of its own
# for the rate limits, so that a crowd of other entries can never evict a client's count.
_CACHE = env.cache("CACHE_URL", default="locmemcache://antrean")
PER_PROCESS_CACHE = not _CACHE["BACKEND"].endswith(".RedisCache")
CACHES = {
    "default": _CACHE,
    "ratelimit": {
        **_CACHE,
        "KEY_PREFIX": "ratelimit",
        **({"LOCATION": f"{_CACHE.get('LOCATION', '')}-ratelimit"} if PER_PROCESS_CACHE else {}),
    },
}
RATELIMIT_USE_CACHE = "ratelimit"
# What a crowd reads over and over and may be a few seconds old (an office and its windows,
# the places): read from each process's memory first, from the shared cache behind it
# (antrean/cache.py). A per-process cache is its own first level.
CACHES["kept"] = (
    _CACHE
    if PER_PROCESS_CACHE
    else {
        "BACKEND": "antrean.cache.TwoLevelCache",
        "LOCATION": "kept",
        "KEY_PREFIX": "kept",
        "OPTIONS": {"SHARED": "default", "MISS_SECONDS": 0.5},
    }
)
# A window found full (bookings.services.refuse_kept_full), in each process's memory only:
# most windows a booking asks about are not full, and asking a shared cache would cost a
# round trip as dear as asking the counters.
CACHES["refusals"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "refusals",
}
# Rendered parts of pages that change only with a new release of the code (the blank booking
# form): in each process's memory, so that a restart with new templates starts without them.
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Language and time: Indonesian first; instants in UTC, dates in each office's zone.
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Indonesian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# E-mail: files under var/mail/ unless EMAIL_URL names an SMTP server.
EMAIL_URL = env.str("EMAIL_URL", default="")
# Seconds before an SMTP call gives up: a worker holds the message's row lock meanwhile.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env.path("EMAIL_FILE_PATH", default=VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Antrean Paspor <noreply@antrean.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# SMS: a backend class; the file backend writes messages under var/sms/.
SMS_BACKEND = env.str("SMS_BACKEND", default="bookings.notifications.sms.FileBackend")
SMS_FILE_PATH = env.path("SMS_FILE_PATH", default=VAR_DIR / "sms")
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env.str("SMS_GATEWAY_TOKEN", default="")
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=10.0)

# Public address used in links inside messages.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Celery: the filesystem transport under var/celery/ unless CELERY_BROKER_URL is set.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _celery_dir = VAR_DIR / "celery"
    for _folder in ("queue", "processed", "control"):
        (_celery_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
else:
    # Redis: a booking request never waits long on a broker that is down or hung (the outbox
    # relay queues later what could not be queued). The read timeout stays above kombu's
    # 1-second BRPOP, so idle workers are not cut off.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=1.0),
        "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=2.0),
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60
CELERY_TASK_SOFT_TIME_LIMIT = 45
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Publishing gives up quickly when the broker is down; the outbox relay queues it later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# No retry: redis-py reconnects a stale pooled connection by itself, and a second try would
# double the wait of a booking request while Redis is down.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0}
# Two queues, so that a long draw or a daily clean-up never holds up a one-time code: messages
# (every delivery task, the default) and periodic (what beat runs, and the draws it hands on).
# Production runs a worker for each (deploy/); a worker given no -Q consumes messages only.
CELERY_TASK_DEFAULT_QUEUE = "messages"
PERIODIC_QUEUE = "periodic"
CELERY_TASK_ROUTES = {
    f"bookings.tasks.{name}": {"queue": PERIODIC_QUEUE}
    for name in (
        "forget_past_applicants",
        "clear_expired_sessions",
        "create_due_reminders",
        "mark_no_shows",
        "run_due_ballots",
        "draw_due_release",
        "lapse_unconfirmed",
    )
}
# Each run expires when the next is due: after a worker outage the backlog holds one run of
# each, not one per missed interval.
CELERY_BEAT_SCHEDULE = {
    "forget-past-applicants": {
        "task": "bookings.tasks.forget_past_applicants",
        "schedule": timedelta(days=1),
        "options": {"expires": 24 * 60 * 60},
    },
    "clear-expired-sessions": {
        "task": "bookings.tasks.clear_expired_sessions",
        "schedule": timedelta(days=1),
        "options": {"expires": 24 * 60 * 60},
    },
    # On the messages queue (the default): a new booking's confirmation waits for it.
    "relay-notifications": {
        "task": "bookings.tasks.relay_notifications",
        "schedule": timedelta(seconds=1),
        "options": {"expires": 1},
    },
    "create-due-reminders": {
        "task": "bookings.tasks.create_due_reminders",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 5 * 60},
    },
    "mark-no-shows": {
        "task": "bookings.tasks.mark_no_shows",
        "schedule": timedelta(minutes=15),
        "options": {"expires": 15 * 60},
    },
    "run-due-ballots": {
        "task": "bookings.tasks.run_due_ballots",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 60},
    },
    "lapse-unconfirmed": {
        "task": "bookings.tasks.lapse_unconfirmed",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 60},
    },
}

# Booking rules that are policy, not law.
BOOKING_MAX_RESCHEDULES = env.int("BOOKING_MAX_RESCHEDULES", default=1)
# Applicants one booking may hold: a family or a group travelling together.
BOOKING_GROUP_MAX = env.int("BOOKING_GROUP_MAX", default=5)
# Minutes one applicant takes at a counter, for the wait estimates of an office that has not
# yet served anyone (after that, the moving average of its own services: bookings.queue.board).
QUEUE_SERVICE_MINUTES = env.int("QUEUE_SERVICE_MINUTES", default=10)
# Active bookings one phone number or e-mail address may hold across offices (0: no limit).
BOOKINGS_PER_CONTACT = env.int("BOOKINGS_PER_CONTACT", default=5)
# A new online booking or group holds its place and NIKs this long until the one-time code
# sent to its contact is typed back; unconfirmed, it lapses (0 for CONTACT_CONFIRMATION: off).
CONTACT_CONFIRMATION = env.bool("CONTACT_CONFIRMATION", default=True)
CONTACT_CONFIRM_MINUTES = timedelta(minutes=env.int("CONTACT_CONFIRM_MINUTES", default=15))
# Wrong codes a code allows; codes one booking may be sent; the wait before a new code, which
# doubles with each (30 s, 1 min, 2 min).
CONTACT_CODE_TRIES = env.int("CONTACT_CODE_TRIES", default=5)
CONTACT_CODE_SENDS = env.int("CONTACT_CODE_SENDS", default=4)
CONTACT_CODE_RESEND_WAIT = timedelta(seconds=env.int("CONTACT_CODE_RESEND_SECONDS", default=30))
# Codes sent per hour to one block of 1,000 mobile numbers (the number without its last three
# digits), and per client address: nobody pumps SMS through us.
CONTACT_CODES_PER_NUMBER_BLOCK = env.int("CONTACT_CODES_PER_NUMBER_BLOCK", default=20)
CONTACT_CODES_PER_CLIENT = env.int("CONTACT_CODES_PER_CLIENT", default=10)
# How long a place freed at an office on a ballot is held for the waiting-list entry it is
# offered to, and how long before the session the offer ends at the latest.
WAITLIST_OFFER_HOURS = timedelta(hours=env.int("WAITLIST_OFFER_HOURS", default=12))
WAITLIST_OFFER_ENDS_BEFORE = timedelta(
    hours=env.int("WAITLIST_OFFER_ENDS_BEFORE_HOURS", default=12)
)
# When an office closes a day that holds bookings: how many of the following days it opens
# its applicants may be moved to (bookings.closures), and may choose from when left without.
OUTAGE_MOVE_DAYS = env.int("OUTAGE_MOVE_DAYS", default=10)
# Seconds an office's free places are kept for readers (0: always computed afresh).
AVAILABILITY_CACHE_SECONDS = env.int("AVAILABILITY_CACHE_SECONDS", default=2)
REMINDER_LEAD_TIME = timedelta(hours=env.int("REMINDER_LEAD_HOURS", default=24))
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=5)
NOTIFICATION_REQUEUE_AFTER = timedelta(minutes=env.int("NOTIFICATION_REQUEUE_MINUTES", default=5))
# Wait before the first retry of a failed message; it doubles with each attempt (2, 4, 8, 16 min).
NOTIFICATION_RETRY_DELAY = timedelta(seconds=env.int("NOTIFICATION_RETRY_SECONDS", default=120))
# After the last quick retry, a message waits this long for one more try (an SMS gateway down
# for an afternoon) before it is given up; the outbox relay, not a countdown, brings it back.
NOTIFICATION_RETRY_TAIL = timedelta(hours=env.int("NOTIFICATION_RETRY_TAIL_HOURS", default=6))
# How long after the appointment a link in a message still opens the booking; it works once,
# and stops earlier if the booking changes.
BOOKING_LINK_AFTER = timedelta(days=env.int("BOOKING_LINK_DAYS", default=14))

# Personal data (UU 27/2022): an applicant's name, NIK, birth date, phone and e-mail are removed
# this many days after the appointment; what the monthly counts need stays.
RETENTION_DAYS = env.int("RETENTION_DAYS", default=90)

# Abuse: rate limits per client address (off with RATELIMIT_ENABLE=0).
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_VIEW = "bookings.public.views.rate_limited"
# The client's address, read one way by the rate limits and the admin lock-out alike: behind a
# proxy, the header it sets (X-Real-IP unless RATELIMIT_IP_META_KEY names another).
BEHIND_PROXY = env.bool("BEHIND_PROXY", default=False)
CLIENT_IP_META_KEY = env.str(
    "RATELIMIT_IP_META_KEY", default="HTTP_X_REAL_IP" if BEHIND_PROXY else "REMOTE_ADDR"
)
RATELIMIT_IP_META_KEY = "antrean.client_ip.client_ip"
AXES_CLIENT_IP_CALLABLE = "antrean.client_ip.client_ip"
# Proof of work (ALTCHA, self-hosted): to enter a ballot, and to book once a client has tried
# this many times within the hour; the challenge's size (a phone solves about 50,000 a second).
PROOF_OF_WORK = env.bool("PROOF_OF_WORK", default=True)
PROOF_OF_WORK_AFTER = env.int("PROOF_OF_WORK_AFTER", default=3)
PROOF_OF_WORK_MAX_NUMBER = env.int("PROOF_OF_WORK_MAX_NUMBER", default=50_000)
RATELIMIT_BOOKING = env.str("RATELIMIT_BOOKING", default="10/m")
RATELIMIT_LOOKUP = env.str("RATELIMIT_LOOKUP", default="20/m")
# Who may read /metrics (addresses or networks, e.g. 10.0.5.0/24), read as the rate limits read
# the client; anyone else gets a 404.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
for _allowed in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_allowed, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {exc}") from None

# Admin login: lock out after repeated failures; staff sessions end after a working day.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
SESSION_ENGINE = "antrean.sessions"  # Django's database sessions, read with plain SQL
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=9 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
LOGIN_URL = "admin:login"

# Security: strict when DEBUG is off; HTTPS settings can be relaxed behind a proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True  # read by the server only (antrean.language)
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# Preloading is a promise to the browsers' lists that takes months to undo: opt in.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts, styles, fonts and frames from this site only, no plugins, no <base>, never framed;
# the pages, admin and the API's Swagger page use no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
# No page needs a camera, a microphone, the location or payments.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])
# django-ratelimit knows django-redis, not Django's own Redis backend, which increments
# atomically as well (INCR).
SILENCED_SYSTEM_CHECKS.append("django_ratelimit.W001")
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")  # preloading is opted into, above

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # 4xx answers are the applicant's business, not the operator's: log server errors only.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}


# Production refuses to start half-configured ---------------------------------------------


def _development_backends() -> list[tuple[str, str]]:
    """Return (variable, what is in use) for each development backend in these settings."""
    found = []
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        found.append(("DATABASE_URL", "a SQLite file"))
    if not EMAIL_URL:
        found.append(("EMAIL_URL", "e-mail written to files, read by nobody"))
    if SMS_BACKEND != "bookings.notifications.sms.HttpGatewayBackend":
        found.append(("SMS_BACKEND", f"{SMS_BACKEND}: SMS that reach nobody"))
    elif not SMS_GATEWAY_URL.startswith("https://"):
        found.append(("SMS_GATEWAY_URL", "an SMS gateway not reached over https://"))
    if not SITE_URL.startswith("https://"):
        found.append(("SITE_URL", "links in messages that are not https://"))
    if PER_PROCESS_CACHE:
        found.append(("CACHE_URL", "a per-process cache: rate limits do not hold across processes"))
    if CELERY_BROKER_URL.startswith("filesystem://"):
        found.append(("CELERY_BROKER_URL", "the filesystem transport of one machine"))
    return found


# A deliberate test set-up with DEBUG off (a load test on one machine, the test suite) says
# ALLOW_DEV_BACKENDS=1; bookings.apps then warns in the log, naming each backend.
ALLOW_DEV_BACKENDS = env.bool("ALLOW_DEV_BACKENDS", default=False)
DEVELOPMENT_BACKENDS = [] if DEBUG else _development_backends()
if DEVELOPMENT_BACKENDS and not ALLOW_DEV_BACKENDS:
    raise ImproperlyConfigured(
        "DEBUG is off, but development backends are configured: "
        + "; ".join(f"set {variable} (now {what})" for variable, what in DEVELOPMENT_BACKENDS)
        + ". ALLOW_DEV_BACKENDS=1 starts anyway, for a deliberate test set-up only."
    )
if _CACHE["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache":
    # Development, or a test set-up that said so: django-ratelimit's refusal of a per-process
    # cache stands aside (not its refusal of a cache that keeps nothing or cannot count).
    SILENCED_SYSTEM_CHECKS.append("django_ratelimit.E003")
