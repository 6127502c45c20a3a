"""Settings, all from the environment (see README "Configuration")."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from fangkong.config.env import env, env_bool, env_list, secret

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = Path(env("FANGKONG_HOME", str(Path.cwd())) or ".").resolve()
VAR_DIR = Path(env("FANGKONG_VAR_DIR", str(BASE_DIR / "var")) or "var")

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY, _secret_is_local = secret("SECRET_KEY", VAR_DIR)
FANGKONG_PII_KEY, _pii_is_local = secret("FANGKONG_PII_KEY", VAR_DIR)
FANGKONG_PII_INDEX_KEY, _index_is_local = secret("FANGKONG_PII_INDEX_KEY", VAR_DIR)
FANGKONG_KEYS_ARE_LOCAL = _secret_is_local or _pii_is_local or _index_is_local
FANGKONG_PROTOCOL = env("FANGKONG_PROTOCOL", "china-9") or "china-9"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # the second factor (TOTP and recovery codes); before fangkong.orgs, whose admin replaces theirs
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "fangkong.common",
    "fangkong.orgs",
    "fangkong.audit",
    "fangkong.people",
    "fangkong.worklist",
    "fangkong.cases",
    "fangkong.quarantine",
    "fangkong.contacts",
    "fangkong.portal",
    "fangkong.notify",
    "fangkong.helpdesk",
    "fangkong.volunteers",
    "fangkong.testing",
    "fangkong.dashboard",
    "fangkong.demo",
    "fangkong.backup",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "fangkong.common.middleware.NulFreeQueryMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "fangkong.common.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "fangkong.orgs.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "fangkong.audit.middleware.RequestContextMiddleware",
    "fangkong.common.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "fangkong.config.urls"
WSGI_APPLICATION = "fangkong.config.wsgi.application"
ASGI_APPLICATION = "fangkong.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fangkong.orgs.context.navigation",
            ],
        },
    },
]

_default_db = f"sqlite:///{VAR_DIR / 'fangkong.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", _default_db) or _default_db,
        # Keep server connections open between requests (a new PostgreSQL connection costs a
        # process fork); checked before reuse. 0 closes each at the end of its request.
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60") or "0"),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # A writer waits up to 20 s for SQLite's one write lock (the pragma, not Django's "timeout",
    # decides); under 200 concurrent public-form clients 5 s was not always enough
    # (bench/helpdesk_load.py). Stays below gunicorn's 30 s worker timeout.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {"default": {"BACKEND": env("FANGKONG_TASK_BACKEND", "django_tasks_db.DatabaseBackend")}}
# A background job's lease lasts this long without renewal (fangkong.common.leases).
FANGKONG_JOB_LEASE_SECONDS = float(env("FANGKONG_JOB_LEASE_SECONDS", "120") or "120")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# The second factor (README "Second factor"): the issuer an authenticator app shows beside the login.
OTP_TOTP_ISSUER = env("FANGKONG_OTP_ISSUER", "fangkong") or "fangkong"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it, even before collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts only from our own static files, never inline (no
# inline handler, no eval: htmx runs with allowEval off); style elements from our files, style
# attributes allowed (charts and a bar's width); nothing may frame a page or take a form elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src-elem": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=False)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

FANGKONG_PAGE_SIZE = 25
FANGKONG_API_TOKEN_DAYS = int(env("FANGKONG_API_TOKEN_DAYS", "90") or "90")
# Whether a commander must approve a bulletin before a publisher may publish it (portal).
FANGKONG_BULLETIN_APPROVAL = env_bool("FANGKONG_BULLETIN_APPROVAL", default=False)
# Reverse proxies in front of the platform whose X-Forwarded-For is trusted (0: none, use REMOTE_ADDR).
FANGKONG_TRUSTED_PROXIES = int(env("FANGKONG_TRUSTED_PROXIES", "0") or "0")
# Location data for contact discovery: pings/ and checkins/ Parquet partitioned by day, and
# venues.parquet (DESIGN.md §3); person_id in the files is the register's person number.
FANGKONG_MOBILITY_DIR = Path(env("FANGKONG_MOBILITY_DIR", str(VAR_DIR / "mobility")) or VAR_DIR / "mobility")
# The co-location engine: "duckdb" (embedded, default) or "spark" (needs the spark extra and Java).
FANGKONG_COLOCATION_BACKEND = env("FANGKONG_COLOCATION_BACKEND", "duckdb") or "duckdb"

# SMS (fangkong.notify, docs/notifications.md). The backend: console (default: prints, sends
# nothing), locmem (tests), aliyun or tencent. Each provider sends only templates approved in its
# console: the signature and each template's code come from here ("name=code,name=code").
FANGKONG_SMS_BACKEND = (
    env("FANGKONG_SMS_BACKEND", "fangkong.notify.backends.console.ConsoleBackend")
    or "fangkong.notify.backends.console.ConsoleBackend"
)
FANGKONG_SMS_SIGNATURE = env("FANGKONG_SMS_SIGNATURE", "防控") or "防控"
# The lab's tube barcode (a regular expression over the upper-cased, trimmed scan).
FANGKONG_TUBE_BARCODE = env("FANGKONG_TUBE_BARCODE", r"[0-9A-Z]{8,24}") or r"[0-9A-Z]{8,24}"
# Where residents reach the public side (the links in text messages are made absolute with it).
FANGKONG_PUBLIC_URL = (env("FANGKONG_PUBLIC_URL", "http://127.0.0.1:8000") or "http://127.0.0.1:8000").rstrip(
    "/"
)
# Messages one number may be sent per local day; those over it are stored as refused.
FANGKONG_SMS_DAILY_LIMIT = int(env("FANGKONG_SMS_DAILY_LIMIT", "10") or "10")
FANGKONG_SMS_TIMEOUT = float(env("FANGKONG_SMS_TIMEOUT", "10") or "10")


def _codes(name: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in env_list(name, []) if "=" in item)


FANGKONG_SMS_ALIYUN = {
    "access_key_id": env("FANGKONG_SMS_ALIYUN_ACCESS_KEY_ID", "") or "",
    "access_key_secret": env("FANGKONG_SMS_ALIYUN_ACCESS_KEY_SECRET", "") or "",
    "endpoint": env("FANGKONG_SMS_ALIYUN_ENDPOINT", "https://dysmsapi.aliyuncs.com/") or "",
    "region": env("FANGKONG_SMS_ALIYUN_REGION", "cn-hangzhou") or "cn-hangzhou",
    "templates": _codes("FANGKONG_SMS_ALIYUN_TEMPLATES"),
}
FANGKONG_SMS_TENCENT = {
    "secret_id": env("FANGKONG_SMS_TENCENT_SECRET_ID", "") or "",
    "secret_key": env("FANGKONG_SMS_TENCENT_SECRET_KEY", "") or "",
    "sdk_app_id": env("FANGKONG_SMS_TENCENT_SDK_APP_ID", "") or "",
    "endpoint": env("FANGKONG_SMS_TENCENT_ENDPOINT", "https://sms.tencentcloudapi.com/") or "",
    "region": env("FANGKONG_SMS_TENCENT_REGION", "ap-guangzhou") or "ap-guangzhou",
    "templates": _codes("FANGKONG_SMS_TENCENT_TEMPLATES"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}
