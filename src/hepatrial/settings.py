"""Django settings, read from the environment.

``DATABASE_URL`` selects the database (SQLite in WAL mode under ``var/`` when unset; PostgreSQL
through psycopg 3 with ``postgresql://...``). ``HEPATRIAL_DEBUG=1`` turns debugging on,
``HEPATRIAL_HTTPS=1`` makes cookies secure and redirects to HTTPS. The secret key comes from
``HEPATRIAL_SECRET_KEY`` or is generated once into ``var/secret_key``. Account security
(sign-in lockout, idle session expiry, CSP; see docs/security.md): ``HEPATRIAL_LOCKOUT_FAILURES``,
``HEPATRIAL_LOCKOUT_HOURS``, ``HEPATRIAL_SESSION_IDLE_MINUTES``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

VAR_DIR = Path(os.environ.get("HEPATRIAL_VAR_DIR", Path.cwd() / "var")).resolve()
PACKAGE_DIR = Path(__file__).resolve().parent


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    if os.environ.get("HEPATRIAL_SECRET_KEY"):
        return os.environ["HEPATRIAL_SECRET_KEY"]
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def _database() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=60)
        if config["ENGINE"] == "django.db.backends.sqlite3":
            config["OPTIONS"] = _sqlite_options()
        return config
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(VAR_DIR / "hepatrial.sqlite3"),
        "OPTIONS": _sqlite_options(),
        # A file, not memory, so tests see WAL and several connections as users do.
        "TEST": {"NAME": str(VAR_DIR / "test_hepatrial.sqlite3")},
    }


def _sqlite_options() -> dict:
    # IMMEDIATE transactions take the write lock at BEGIN, so two writers queue instead of
    # failing with "database is locked" when both try to upgrade a read lock.
    return {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }


DEBUG = _flag("HEPATRIAL_DEBUG")
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("HEPATRIAL_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("HEPATRIAL_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "csp",
    "hepatrial.edc",
    "hepatrial.web",
    "ninja",
    "hepatrial.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hepatrial.web.security.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "hepatrial.web.security.HeadersMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hepatrial.urls"
WSGI_APPLICATION = "hepatrial.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "hepatrial.web.context.database_lock",
                "hepatrial.web.context.permissions",
            ]
        },
    }
]

DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "edc.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # Kept so passwords hashed before Argon2 still verify (and are rehashed at their next sign-in).
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "hepatrial.web.security.SignInThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "hepatrial.edc.passwords.RecentPasswordValidator", "OPTIONS": {"count": 5}},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
FORMAT_MODULE_PATH = "hepatrial.formats"
TIME_ZONE = os.environ.get("HEPATRIAL_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
"""The absolute limit: a session ends 8 hours after sign-in, however busy."""
SESSION_IDLE_SECONDS = int(os.environ.get("HEPATRIAL_SESSION_IDLE_MINUTES", "30")) * 60
"""A session unused this long is signed out (hepatrial.web.security.IdleSessionMiddleware)."""
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if _flag("HEPATRIAL_HTTPS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("HEPATRIAL_LOG_LEVEL", "WARNING")},
}

# Sign-in lockout (django-axes): this many failed sign-ins for one user name lock the account,
# whatever the address they come from, until an administrator unlocks it or the lockout hours pass.
AXES_FAILURE_LIMIT = int(os.environ.get("HEPATRIAL_LOCKOUT_FAILURES", "10"))
AXES_COOLOFF_TIME = float(os.environ.get("HEPATRIAL_LOCKOUT_HOURS", "24")) or None
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes warns when the address is not a lockout key: keyed on the address, failures could be
# spread over many addresses; keyed on the user name alone, they cannot (the account locks).
# Not the address alone either: a hospital's ward PCs often share one address, and one
# mistyping user must not lock out the ward. The address is kept in every audit row.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "hepatrial.web.accounts.locked_out"
AXES_VERBOSE = False

# Content-Security-Policy (django-csp 4): nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(), interest-cohort=()"
)

HEPATRIAL_PROTOCOL = os.environ.get("HEPATRIAL_PROTOCOL", "")
