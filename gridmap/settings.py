"""GridMap settings: every value comes from the environment (documented in .env.example)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: str = "false") -> bool:
    return env(name, default).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    return int(env(name, str(default)))


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "false")
# No default, not even for a demo: `make setup` writes a random one to the install's secrets file (.ci/secrets.sh)
# and the Makefile passes it in; the system check gridmap.E102 refuses a known or weak one.
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY is not set: `make setup` writes one to the secrets file (docs/operations.md)")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
DEMO_MODE = envbool("DEMO_MODE", "false")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework.authtoken",  # integrations (GIS clients, scripts): "Authorization: Token <key>"
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "gridmap.apps.GridMapConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "gridmap.middleware.InputGate",
    "gridmap.middleware.absolute_session_limit",
    "gridmap.middleware.content_security_policy",
]

ROOT_URLCONF = "gridmap.urls"
WSGI_APPLICATION = "gridmap.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "map_templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "gridmap.middleware.csp_nonce",
                "gridmap.views.navigation.menu",
                "gridmap.views.navigation.demo_mode",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", "postgis://gridmap:gridmap@127.0.0.1:5432/gridmap"),
        engine="django.contrib.gis.db.backends.postgis",
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# Every connection of the app (web, import worker, management commands, bench) carries these session settings,
# as libpq options, so an external PostGIS gets them too (docs/performance.md "One configuration"). Measured at
# demo size: JIT compilation took the planner's coverage from 53 to 138 ms and its heat cells from 77 to 137 ms
# and made no query faster; work_mem 64MB keeps the large sizes' hash joins in memory.
DB_SESSION_OPTIONS = env("DB_SESSION_OPTIONS", "-c jit=off -c work_mem=64MB -c maintenance_work_mem=512MB")
DATABASES["default"].setdefault("OPTIONS", {})["options"] = DB_SESSION_OPTIONS
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # then each role's start page (policy.start_page)
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = envint("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True  # idle timeout: every request renews the 30-minute window
SESSION_ENGINE = "gridmap.storage.session_store"  # renewals commit without waiting for fsync (see the module)
SESSION_ABSOLUTE_SECONDS = envint("SESSION_ABSOLUTE_SECONDS", 8 * 3600)  # however active the user is
SESSION_COOKIE_HTTPONLY = True
LOCKOUT_FAILURES = envint("LOCKOUT_FAILURES", 5)
LOCKOUT_WINDOW_SECONDS = envint("LOCKOUT_WINDOW_SECONDS", 15 * 60)

# HTTPS (production): secure cookies, HSTS and the redirect come from the environment.
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "false")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "false")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "false")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_HTTPS_PROXY", "false") else None
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "gridmap" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve straight from app folders in development and tests
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
# Uploaded files kept by the app (concern photos): never served as static files, only through views that check
# scope (api/concerns.py). Point it at a mounted object store (s3fs, ossfs) to keep photos off the host.
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
# Working-day deadlines (a street may count its concern deadlines on working days only): the public holidays and
# the make-up working days (调休) of the year, as comma-separated ISO dates, e.g. "2027-01-01,2027-02-16".
CONCERN_HOLIDAYS = frozenset(d.strip() for d in env("CONCERN_HOLIDAYS", "").split(",") if d.strip())
CONCERN_MAKEUP_WORKDAYS = frozenset(d.strip() for d in env("CONCERN_MAKEUP_WORKDAYS", "").split(",") if d.strip())
CONCERN_DUE_SOON_HOURS = envint("CONCERN_DUE_SOON_HOURS", 24)  # the bell counts concerns due within this
CONCERN_PHOTO_MAX_BYTES = envint("CONCERN_PHOTO_MAX_BYTES", 10 * 1024 * 1024)
CONCERN_PHOTOS_MAX = envint("CONCERN_PHOTOS_MAX", 9)  # per concern
CONCERN_PHOTO_MAX_PIXELS = envint("CONCERN_PHOTO_MAX_PIXELS", 50_000_000)  # checked from the header, before decoding
CONCERN_PHOTO_SIDE = envint("CONCERN_PHOTO_SIDE", 2048)  # stored photos are at most this wide and high
# The optional outgoing webhook to a 12345 platform (docs/operations.md, "Concern webhook"): off while the URL is
# empty; every request is signed with the secret (required with a URL: system check gridmap.E104, which also
# refuses a URL that is not http(s)). The timeout is per request, in seconds.
# Public intake by QR code (services/concerns/intake.py, docs/security.md "Public intake"): per community and per
# client address and per device, accepted submissions per hour and per day; sizes.
CONCERN_INTAKE_PER_HOUR = envint("CONCERN_INTAKE_PER_HOUR", 3)
CONCERN_INTAKE_PER_DAY = envint("CONCERN_INTAKE_PER_DAY", 10)
CONCERN_INTAKE_PHOTOS = envint("CONCERN_INTAKE_PHOTOS", 3)
CONCERN_INTAKE_PHOTO_MAX_BYTES = envint("CONCERN_INTAKE_PHOTO_MAX_BYTES", 5 * 1024 * 1024)
CONCERN_INTAKE_TEXT = envint("CONCERN_INTAKE_TEXT", 500)  # characters of the description
CONCERN_INTAKE_MAX_BODY = envint("CONCERN_INTAKE_MAX_BODY", 16 * 1024 * 1024)  # the whole request, checked first
CONCERN_WEBHOOK_URL = env("CONCERN_WEBHOOK_URL", "").strip()
CONCERN_WEBHOOK_SECRET = env("CONCERN_WEBHOOK_SECRET", "")
CONCERN_WEBHOOK_TIMEOUT = envint("CONCERN_WEBHOOK_TIMEOUT", 5)
# The concern ledger (台账, /api/v1/concern-ledger.xlsx) is written inside the request: a period with more concerns
# than this is refused with the count ("请缩短时段"). 20,000 rows take 5-6 s of CPU, well inside gunicorn's 30 s
# worker timeout (measured: tests/test_concern_reports.py).
CONCERN_LEDGER_MAX_ROWS = envint("CONCERN_LEDGER_MAX_ROWS", 20_000)

# Base map: a tile URL template (天地图 with a key, an intranet server or /tiles/{z}/{x}/{y}.png),
# or empty for a plain background. Nothing else on a page comes from outside the server.
TILE_URL = env("TILE_URL")
TILE_ATTRIBUTION = env("TILE_ATTRIBUTION", "")
# Tiles served by the app itself (TILE_URL=/basemap/{z}/{x}/{y}.png): a z/x/y directory or one MBTiles file.
BASEMAP_DIR = env("BASEMAP_DIR", "")
BASEMAP_MBTILES = env("BASEMAP_MBTILES", "")
TILE_SUBDOMAINS = env("TILE_SUBDOMAINS", "")
MAP_CENTER = tuple(float(v) for v in envlist("MAP_CENTER", "39.21,101.68"))  # (lat, lon)

LEAFLET_CONFIG = {
    "TILES": [
        (
            _("底图"),
            TILE_URL,
            {
                "attribution": TILE_ATTRIBUTION,
                "maxZoom": 19,
                **({"subdomains": TILE_SUBDOMAINS} if TILE_SUBDOMAINS else {}),
            },
        )
    ]
    if TILE_URL
    else [],
    "ATTRIBUTION_PREFIX": "",
    "DEFAULT_CENTER": MAP_CENTER,
    "DEFAULT_ZOOM": 13,
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 19,
    "RESET_VIEW": False,
    "SCALE": "metric",
    "PLUGINS": {
        "cluster": {
            "css": ["vendor/markercluster/MarkerCluster.css", "vendor/markercluster/MarkerCluster.Default.css"],
            "js": ["vendor/markercluster/leaflet.markercluster.js"],
        },
        "heat": {"js": ["vendor/leaflet-heat/leaflet-heat.js"]},
        "geoman": {"css": ["vendor/geoman/leaflet-geoman.css"], "js": ["vendor/geoman/leaflet-geoman.min.js"]},
    },
}

REST_FRAMEWORK = {
    # Token first so an anonymous request gets 401 with "WWW-Authenticate: Token" (session-only answers 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "gridmap.api.token_auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "gridmap.api.jsonapi.drf_exception_handler",  # the one error shape (api/jsonapi.py)
    "DEFAULT_PARSER_CLASSES": ["gridmap.api.jsonapi.BodyParser"],  # the one JSON parser: size, depth, NUL
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GridMap API",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The JSON endpoints of the pages join the schema from what they declare (api/schema.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "gridmap.api.schema.page_api_paths"],
}

# Domain defaults a street office may change; they produce warnings, never refusals.
GRID_HOUSEHOLDS_MIN = envint("GRID_HOUSEHOLDS_MIN", 200)
GRID_HOUSEHOLDS_MAX = envint("GRID_HOUSEHOLDS_MAX", 500)
CENTRAL_LINKS_MIN = envint("CENTRAL_LINKS_MIN", 5)
CENTRAL_LINKS_MAX = envint("CENTRAL_LINKS_MAX", 15)
STATION_RADIUS_M = envint("STATION_RADIUS_M", 500)
CENTRAL_LINKS_TARGET = envint("CENTRAL_LINKS_TARGET", 10)  # a suggestion fills a central household up to this
LINK_DISTANCE_MAX_M = envint("LINK_DISTANCE_MAX_M", 300)  # longer central-household links get a warning
HOUSEHOLDS_PER_FULLTIME_MAX = envint("HOUSEHOLDS_PER_FULLTIME_MAX", 500)  # staffing warning above this
STATION_COVERAGE_MIN_PCT = envint("STATION_COVERAGE_MIN_PCT", 80)  # planner dashboard: "low coverage" below
SMALL_COUNT_MIN = envint("SMALL_COUNT_MIN", 5)  # planners see sensitive counts below this as "<5"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}

# gis.W001: Debian 12 ships GDAL 3.6, which cannot block file/network access from spatial-reference
# strings (CVE-2026-114582, full fix needs GDAL >= 3.9). Mitigation: GridMap never hands a user-supplied
# spatial-reference string to GDAL; coordinate systems are chosen from a fixed list of EPSG codes, and
# file imports go through pyogrio's bundled GDAL 3.12. See docs/security.md.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# Household import (issue #7): files up to this size run in the request, larger ones in a worker process.
HOUSEHOLD_IMPORT_INLINE_BYTES = envint("HOUSEHOLD_IMPORT_INLINE_BYTES", 2 * 1024 * 1024)
HOUSEHOLD_IMPORT_MAX_BYTES = envint("HOUSEHOLD_IMPORT_MAX_BYTES", 200 * 1024 * 1024)
# The import worker's limits: address space (bytes) and CPU seconds; past them the job fails, the server lives.
HOUSEHOLD_IMPORT_WORKER_MEMORY = envint("HOUSEHOLD_IMPORT_WORKER_MEMORY", 8 * 1024**3)
HOUSEHOLD_IMPORT_WORKER_SECONDS = envint("HOUSEHOLD_IMPORT_WORKER_SECONDS", 1800)
# Layer (streets, communities, stations) and grid file imports: files up to this many bytes as uploaded run in
# the request, larger ones as a job in a worker process (the same limits as the household worker's).
LAYER_IMPORT_INLINE_BYTES = envint("LAYER_IMPORT_INLINE_BYTES", 256 * 1024)

# Per-worker caches (nothing shared between gunicorn workers): "pages" holds masked grid pages and
# household layers, fetched only while their revision counters are unchanged (queries/grid_page_cache.py).
# Entries are capped in number and size (PAGE_CACHE_MAX_BYTES each) to bound each worker's memory.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "pages",
        "OPTIONS": {"MAX_ENTRIES": envint("PAGE_CACHE_ENTRIES", 100)},
    },
    # The planner's aggregates (coverage per grid and area, heat cells), under revision counters
    # (queries/aggregate_cache.py): a few entries per scope, a few MB at a million households.
    "aggregates": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "aggregates",
        "OPTIONS": {"MAX_ENTRIES": envint("AGGREGATE_CACHE_ENTRIES", 50)},
    },
}
PAGE_CACHE_MAX_BYTES = envint("PAGE_CACHE_MAX_BYTES", 512 * 1024)

# Integration tokens ("Authorization: Token <key>") expire after this many seconds (default 30 days).
TOKEN_LIFETIME_SECONDS = envint("TOKEN_LIFETIME_SECONDS", 30 * 24 * 3600)

# Personal data sealed at rest (gridmap/storage/sealed_fields.py): AES-256-GCM key, base64 of 32 bytes; required
# outside DEMO_MODE/DEBUG (system check gridmap.E101). Rotation: a new key and id, the old ones in OLD_KEYS.
GRIDMAP_DATA_KEY = env("GRIDMAP_DATA_KEY")
GRIDMAP_DATA_KEY_ID = envint("GRIDMAP_DATA_KEY_ID", 1)
GRIDMAP_DATA_OLD_KEYS = env("GRIDMAP_DATA_OLD_KEYS")
GRIDMAP_INDEX_KEY = env("GRIDMAP_INDEX_KEY")
