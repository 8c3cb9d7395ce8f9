"""The one settings module, driven by environment variables.

Defaults run on a laptop with nothing else installed (SQLite in WAL mode, in-memory channel
layer, local media). ``DATABASE_URL`` switches to PostgreSQL, ``REDIS_URL`` to the Redis
channel layer, ``DJANGO_ENV=production`` to hardened settings. See README.md for the list.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from lib.env import (
    env_bool,
    env_int,
    env_list,
    env_str,
    parse_database_url,
    parse_redis_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DJANGO_ENV = env_str("DJANGO_ENV", "development")
if DJANGO_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be development, test or production, got {DJANGO_ENV!r}"
    )
PRODUCTION = DJANGO_ENV == "production"

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105
elif PRODUCTION and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production")

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when DJANGO_ENV=production")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    # Our apps come first so their templates override Wagtail's and Django's.
    "people",
    "audit",
    "cms",
    "courses",
    "participation",
    "learning",
    "live",
    "assessments",
    "notifications",
    "plans",
    "rollcall",
    "dossiers",
    "ops",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "treebeard",
    "taggit",
    "channels",
    "health_check",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "lib.security.SecurityHeadersMiddleware",
    "lib.security.RejectNullCharactersMiddleware",
    # Answers ordinary JSON heartbeats itself, with the same checks (learning/heartbeat/).
    # tests/learning/test_heartbeat_middleware_list.py pins this list: see why there.
    "learning.heartbeat.middleware.HeartbeatFastPathMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Sets request.user.otp_device / is_verified() from the session (two-factor sign-in).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "audit.middleware.DeniedAccessMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Signs out idle users (15 min staff, 30 min learners); needs auth and messages above.
    "people.middleware.IdleTimeoutMiddleware",
    # Staff must pass two-factor authentication before the admin (people/twofactor.py).
    "people.twofactor.RequireStaffOTPMiddleware",
    # django-axes turns a locked-out login attempt into the lockout page; it must come last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 600, minimum=0)
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    _db = parse_database_url("DATABASE_URL", DATABASE_URL)
else:
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE_DIR / "db.sqlite3")}
if _db["ENGINE"].endswith("sqlite3"):
    # Several writer processes must never see "database is locked": WAL lets readers run
    # beside the writer, IMMEDIATE takes the write lock at BEGIN (so a transaction never
    # fails half-way on upgrade), and the busy timeout makes a second writer wait its turn.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20, minimum=1),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA busy_timeout=20000;",
    }
else:
    # No JIT compilation: it planned the bureau's study-progress overview (47,505 correlated
    # lookups, each a microsecond) as worth 0.6 s of compiling, every time. Short OLTP queries
    # never gain from it. A ``?options=`` in DATABASE_URL wins.
    _db["OPTIONS"].setdefault("options", "-c jit=off")
_db["CONN_MAX_AGE"] = CONN_MAX_AGE
_db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels -------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    parse_redis_url("REDIS_URL", REDIS_URL)
    CHANNEL_LAYERS = {
        "default": {
            # channels-redis, with at most max_concurrent operations waiting on Redis at once
            # (lib/channel_layers.py): the pool stays about that size in a join storm
            "BACKEND": "lib.channel_layers.RedisChannelLayer",
            "CONFIG": {
                "max_concurrent": env_int("REDIS_MAX_CONCURRENT", 50, minimum=1),
                # redis-py's pool refuses new connections past max_connections; a join storm
                # of hundreds of sockets needs a pool sized for it.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": env_int("REDIS_MAX_CONNECTIONS", 1000, minimum=10),
                        # redis-py 8 reads with a 5 s timeout, as long as channels-redis's
                        # blocking pop waits for a message: an idle worker's pop then raced
                        # the timeout and closed a socket with 1011.
                        "socket_timeout": 15,
                    }
                ],
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
else:
    # channels' own, with its expiry sweep once a second instead of on every receive
    CHANNEL_LAYERS = {"default": {"BACKEND": "lib.channel_layers.InMemoryChannelLayer"}}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "people.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
# Axes first: it refuses locked-out attempts before ModelBackend checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Argon2id for new and re-hashed passwords; PBKDF2 still verifies older hashes (and they are
# upgraded to Argon2 at the next successful sign-in).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Staff: >= 12 characters, 3 of 4 character classes, not common. Learners: >= 8, not common,
# not all digits. See people/passwords.py and docs/security.md.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "people.passwords.RolePasswordValidator"},
]

# Login lockout (django-axes): 5 failures for one username from one IP lock that pair for
# 30 minutes; a successful sign-in clears the count. Covers /accounts/login/ and /admin/login/.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "people.lockout.lockout_response"
# Sign-ins are recorded in our own HMAC-chained access log (audit/); axes keeps only failures.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False  # no banner on every management command (score_instrument prints JSON)
# Behind a proxy REMOTE_ADDR is the proxy; CLIENT_IP_HEADER names the META key of the header
# the proxy sets (e.g. HTTP_X_REAL_IP) so lockouts and the access log see the real client.
CLIENT_IP_HEADER = env_str("CLIENT_IP_HEADER")
AXES_CLIENT_IP_CALLABLE = "lib.net.client_ip"

# Two-factor authentication for staff (people/twofactor.py, docs/security.md). The name shown
# in authenticator apps. django-otp's own exponential back-off is off: our rule is 5 wrong
# codes lock the second step for AXES_COOLOFF_TIME (30 minutes).
OTP_TOTP_ISSUER = "社区矫正平台"
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
TWO_FACTOR_FAILURE_LIMIT = 5

# Idle sign-out (people/middleware.py). The session cookie itself lives longer so that it
# never ends a session before the idle rule does.
SESSION_IDLE_TIMEOUT_STAFF = 15 * 60
SESSION_IDLE_TIMEOUT_LEARNER = 30 * 60
SESSION_COOKIE_AGE = 12 * 60 * 60
# Django's database sessions, with the per-request read and write as plain SQL.
SESSION_ENGINE = "lib.session_store"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Uploads about a person (absence evidence, generated reports) never sit under MEDIA_URL: they
# are served only through views that check who asks (``lib.storage.private_storage``).
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", str(BASE_DIR / "var" / "private")))
# The CJK font every PDF embeds (a subset of it): TrueType outlines, .ttf or .ttc (reportlab
# cannot embed CFF-flavoured OpenType such as Noto CJK). Debian's fonts-wqy-microhei, installed
# by `make browser-deps`; when it is missing PDFs use a non-embedded font and `check` warns.
PDF_FONT = env_str("PDF_FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# An archived education-and-assistance file (dossiers app) is kept this many years after
# it is archived; the date is stored on the file when it is archived.
DOSSIER_RETENTION_YEARS = env_int("DOSSIER_RETENTION_YEARS", 30, minimum=1)

# --- Wagtail --------------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "社区矫正学习与心理支持平台"
WAGTAILADMIN_BASE_URL = env_str("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
# Wagtail's sign-in form with a translated label on the password field (people/forms.py).
WAGTAILADMIN_USER_LOGIN_FORM = "people.forms.AdminLoginForm"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
# Lesson videos and their captions (WebVTT) are uploaded as documents (courses.models.VideoBlock).
WAGTAILDOCS_EXTENSIONS = ["pdf", "docx", "xlsx", "csv", "txt", "mp4", "webm", "vtt"]
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"  # Wagtail previews override this for themselves
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# Extra origins for the Content-Security-Policy (lib/security.py), e.g. the Jitsi domain.
CSP_FRAME_SRC = env_list("CSP_FRAME_SRC", [])
CSP_SCRIPT_SRC = env_list("CSP_SCRIPT_SRC", [])
# Origins lecture recordings may play from (live.models.validate_recording_url).
CSP_MEDIA_SRC = env_list("CSP_MEDIA_SRC", [])

# --- Access log -----------------------------------------------------------------------------
# Key for the access log's HMAC chain; by default derived from SECRET_KEY. Set it separately
# (and keep it out of the database host) so a database administrator cannot re-chain edits.
ACCESS_LOG_KEY = env_str("ACCESS_LOG_KEY")

# --- Reminders by text message and email (notifications/senders.py, docs/deploy.md) ------
# SMS_BACKEND: "console" (log the message; development default), "http" (POST to an SMS
# gateway) or "off" (production default until a gateway is configured).
SMS_BACKEND = env_str("SMS_BACKEND", "off" if PRODUCTION else "console")
if SMS_BACKEND not in {"console", "http", "off"}:
    raise ImproperlyConfigured(f"SMS_BACKEND must be console, http or off, got {SMS_BACKEND!r}")
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL")
SMS_API_KEY = env_str("SMS_API_KEY")
if SMS_BACKEND == "http" and not SMS_GATEWAY_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("SMS_GATEWAY_URL must be an http(s) URL when SMS_BACKEND=http")
SMS_TIMEOUT = env_int("SMS_TIMEOUT", 10, minimum=1)  # seconds per attempt
SMS_MAX_ATTEMPTS = env_int("SMS_MAX_ATTEMPTS", 3, minimum=1)
SMS_BACKOFF_SECONDS = env_int("SMS_BACKOFF_SECONDS", 2, minimum=0)  # doubled per retry
# Which channels reminders use besides the in-app inbox (subset of "sms,email").
REMINDER_CHANNELS = env_list("REMINDER_CHANNELS", ["sms", "email"])
if set(REMINDER_CHANNELS) - {"sms", "email"}:
    raise ImproperlyConfigured(f"REMINDER_CHANNELS may list sms and email, got {REMINDER_CHANNELS}")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "noreply@localhost")

# --- Jitsi ----------------------------------------------------------------------------------
# Webhook intake (live/views.py). Unset: the endpoint answers 503 "not configured".
# JaaS signs with the endpoint's whole ``whsec_…`` secret (JaaS console → Webhooks).
JAAS_WEBHOOK_SECRET = env_str("JAAS_WEBHOOK_SECRET")
# Prosody ``event_sync`` sends ``Authorization: Bearer <token>`` (its ``api_headers``).
PROSODY_WEBHOOK_TOKEN = env_str("PROSODY_WEBHOOK_TOKEN")
# Video server and join tokens (live/jitsi.py, which checks every value). JaaS: JAAS_APP_ID,
# JAAS_KEY_ID, JAAS_PRIVATE_KEY (PEM or path). Self-hosted: JITSI_APP_ID, JITSI_APP_SECRET,
# JITSI_XMPP_DOMAIN (token "sub"; default: JITSI_DOMAIN's host), JITSI_MUC_SIZE_URL,
# JITSI_TOKEN_AUDIENCE (token "aud", default "jitsi"; docs/deploy.md). Neither:
# a token-less server at JITSI_DOMAIN, by default a local docker-jitsi-meet (localhost:8443).
from live.jitsi import settings_from_env as _jitsi_settings  # noqa: E402 - imports no models

_jitsi = _jitsi_settings()
JITSI_DOMAIN = _jitsi["JITSI_DOMAIN"]
JITSI_XMPP_DOMAIN = _jitsi["JITSI_XMPP_DOMAIN"]
JITSI_APP_ID = _jitsi["JITSI_APP_ID"]
JITSI_APP_SECRET = _jitsi["JITSI_APP_SECRET"]
JAAS_APP_ID = _jitsi["JAAS_APP_ID"]
JAAS_KEY_ID = _jitsi["JAAS_KEY_ID"]
JAAS_PRIVATE_KEY = _jitsi["JAAS_PRIVATE_KEY"]
JITSI_MUC_SIZE_URL = _jitsi["JITSI_MUC_SIZE_URL"]
JITSI_TOKEN_TTL_MINUTES = _jitsi["JITSI_TOKEN_TTL_MINUTES"]
JITSI_TOKEN_AUDIENCE = _jitsi["JITSI_TOKEN_AUDIENCE"]
# The lecture page loads the IFrame API script from the Jitsi origin and frames it.
for _csp in (CSP_FRAME_SRC, CSP_SCRIPT_SRC):
    if f"https://{JITSI_DOMAIN}" not in _csp:
        _csp.append(f"https://{JITSI_DOMAIN}")

# --- Background tasks (django-tasks): reports are prepared by tasks (learning/report_tasks.py).
# "immediate" (default) runs them at once in the request, no worker needed; "database" queues
# them in the database (app ``django_tasks_db``, migrated then) for `manage.py db_worker`.
TASKS_BACKEND = env_str("TASKS_BACKEND", "immediate")
if TASKS_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
elif TASKS_BACKEND == "database":
    INSTALLED_APPS.append("django_tasks_db")
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
else:
    raise ImproperlyConfigured("TASKS_BACKEND must be 'immediate' or 'database'")
