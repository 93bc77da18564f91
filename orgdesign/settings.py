"""Settings for orgdesign, read from the environment (12-factor).

With nothing set the app runs on SQLite and runs Celery tasks in-process after commit,
so ``make demo`` works on a machine with only Python. ``DATABASE_URL`` and
``CELERY_BROKER_URL`` select PostgreSQL and Redis for production and CI.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default="SECRET_KEY" not in os.environ)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "orgdesign-insecure-local-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
CSRF_COOKIE_HTTPONLY = True  # htmx gets the token from the page (base.html), not the cookie

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "mptt",
    "simple_history",
    "axes",
    "tiers",
    "roles",
    "staffing",
    "metrics",
    "demo",
    "orgdesign",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "orgdesign.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",  # who, for admin catalogue edits
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it answers a locked-out login attempt
]

ROOT_URLCONF = "orgdesign.urls"
WSGI_APPLICATION = "orgdesign.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {
        # the chart's cards only (staffing.web.cards says why): every page is Django's
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "staffing.web.cards.environment"},
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several writers (the dev server's threads, in-process tasks) wait rather than fail.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The product's queries are short; PostgreSQL's JIT compiler costs more than it saves on
    # them (it added 75 ms to a 100k-position span recompute), so it is off for our sessions.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed logins are counted per user name and address, and per address across user names
# (django-axes, in the database, so every web process sees the same count; see
# orgdesign.kernel.auth.LoginAttempts): after AXES_FAILURE_LIMIT failures of one pair, or
# AXES_ADDRESS_FAILURE_LIMIT from one address, that address is refused for
# AXES_COOLOFF_MINUTES. The API's tokens are throttled separately (below).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_ADDRESS_FAILURE_LIMIT = int(os.environ.get("AXES_ADDRESS_FAILURE_LIMIT", "20"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]  # LoginAttempts' order
AXES_HANDLER = "orgdesign.kernel.auth.LoginAttempts"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_DISABLE_ACCESS_LOG = True  # failures are kept; successful logins are not recorded
AXES_VERBOSE = False
AXES_CLIENT_STR_CALLABLE = "orgdesign.kernel.auth.login_client_label"  # no names in the logs
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # else anyone could keep a user out
# the client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address the
# outermost one saw (counted from the right of X-Forwarded-For: the left part is the
# client's to write)
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "orgdesign.kernel.auth.client_address"

# Content-Security-Policy on every response (django-csp): scripts only from our own static
# files (htmx and ours; no inline script, no eval), nothing framed or embedded. Inline style
# attributes stay allowed: cards carry their tier colour as a CSS variable.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# What a downloaded picture (the SVG export) may do when opened: show itself, run nothing.
PICTURE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

REST_FRAMEWORK = {
    # Token first: its scheme is what a 401 answer names in WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "orgdesign.kernel.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["orgdesign.kernel.auth.ApiAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["orgdesign.kernel.auth.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": os.environ.get("API_TOKEN_RATE", "5000/hour")},
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "orgdesign.kernel.rest.Pagination",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "orgdesign.kernel.rest.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "orgdesign.schema.AutoSchema",
}

# Caches, per process: "default" (the API tokens' rate counts) and "catalogue", the answers
# of catalogue endpoints kept by the catalogue's version (orgdesign.kernel.rest), apart so
# that many distinct catalogue URLs can push out nothing but each other.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "catalogue": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "catalogue-answers",
        "OPTIONS": {"MAX_ENTRIES": 500},
    },
}

# API tokens (django-rest-knox): stored as digests, no expiry unless given at creation.
KNOX_TOKEN_MODEL = "knox.AuthToken"  # knox's own table (its migrations always create it)
REST_KNOX = {
    "TOKEN_TTL": None,
    "TOKEN_PREFIX": "od_",
    "AUTH_HEADER_PREFIX": "Token",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "orgdesign API",
    "DESCRIPTION": (
        "Roles, career paths, positions and headcount of a tiered support organization. "
        "Authenticate with a session (the browser) or a token: "
        "`Authorization: Token <key>` (create one with `manage.py create_api_token USER`)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # assets from drf-spectacular-sidecar: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/",
    "ENUM_NAME_OVERRIDES": {
        # span rules and findings share one choice set: which positions count
        "SpanBasisEnum": "roles.models.SpanRule.Counts",
        "ScenarioStatusEnum": "staffing.models.Scenario.Status",
        "PositionStatusEnum": "staffing.models.Position.Status",
    },
}

# --- Celery -----------------------------------------------------------------------------
# With no broker configured, tasks run in-process (eagerly) when the transaction commits.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True  # no result backend: nothing in the product waits on results
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_PUBLISH_RETRY = False  # fail fast on the request path when the broker is down
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0}
CELERY_BROKER_CONNECTION_TIMEOUT = float(os.environ.get("CELERY_BROKER_CONNECTION_TIMEOUT", "1"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = env_bool(
    "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP", True
)
# max_retries 0: a producer whose broker is down gives up at once instead of waiting out
# kombu's connection retries (2 s with kombu 5.7); the edit has committed and the sweep
# catches up. The worker's own connection retries are set by Celery, not by these.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 5,
    "max_retries": 0,
}
# The worker retries its broker connection for as long as the broker is down (Celery's
# default gives up after 100 attempts, about 46 minutes, and the worker exits).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# kombu's Redis transport with a channel that still closes when Redis is gone: see
# orgdesign/broker.py (without it, a Celery 5.7 worker dies when Redis goes away mid-task).
if CELERY_BROKER_URL.startswith("redis://"):
    CELERY_BROKER_TRANSPORT = "orgdesign.broker:Transport"
CELERY_TIMEZONE = TIME_ZONE

# Span-of-control findings: a burst of edits within this many seconds becomes one job; a
# job requested longer ago than the stale limit and not started counts as lost.
SPANS_DEBOUNCE_SECONDS = float(os.environ.get("SPANS_DEBOUNCE_SECONDS", "2"))
SPANS_REQUEST_STALE_SECONDS = float(os.environ.get("SPANS_REQUEST_STALE_SECONDS", "300"))

# Imports from CSV (staffing.interchange): the largest file the page accepts, in bytes.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
# ... the most rows one file may hold, the problems kept for its report (the rest counted),
# and the size up to which a file is checked during the upload (larger ones in a job).
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "200000"))
IMPORT_MAX_PROBLEMS = int(os.environ.get("IMPORT_MAX_PROBLEMS", "200"))
IMPORT_CHECK_INLINE_ROWS = int(os.environ.get("IMPORT_CHECK_INLINE_ROWS", "2000"))

# Promotion readiness (/readiness/): people on a page of the list.
READINESS_PAGE_SIZE = int(os.environ.get("READINESS_PAGE_SIZE", "100"))

# Every periodic task of the product is declared here, and only here.
CELERY_BEAT_SCHEDULE = {
    "verify-reporting-tree-nightly": {
        "task": "staffing.tasks.verify_tree",
        "schedule": crontab(hour=2, minute=30),
    },
    "span-findings-sweep": {
        "task": "staffing.tasks.sweep_spans",
        "schedule": float(os.environ.get("SPANS_SWEEP_SECONDS", "60")),
    },
    "span-findings-recompute-nightly": {
        "task": "staffing.tasks.recompute_all_spans",
        "schedule": crontab(hour=2, minute=45),
    },
    "import-jobs-sweep": {
        "task": "staffing.tasks.sweep_imports",
        "schedule": float(os.environ.get("IMPORTS_SWEEP_SECONDS", "60")),
    },
    "headcount-snapshot-nightly": {
        "task": "metrics.tasks.take_headcount_snapshots",
        "schedule": crontab(hour=3, minute=0),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Tests and deployments may give the worker its own queue.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")

# The audit trail (django-simple-history; see orgdesign.kernel.audit). Reverting from the admin's
# history page would write positions past the tree services and their lock: it is off.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_DATE_INDEX = "composite"  # (history_date, id): feeds and past trees by date
