"""Settings shared by every environment, read from the environment (12-factor).

Each environment module (local, test, production) imports this and changes only what differs.
Every variable is documented in `.env.example`. A bad value stops start-up with a message that
names the variable, rather than failing later in a request.
"""

import re
import zoneinfo
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env file is optional; real deployments set the variables in the process environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def env_typed(name: str, cast, default):
    """Read one variable with a cast, turning a bad value into a start-up error naming it."""
    try:
        return cast(name, default=default)
    except (ValueError, TypeError, environ.ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(
            f"Environment variable {name} has an invalid value: {exc}"
        ) from exc


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """A strict boolean: a typo such as DEBUG=ture must not silently mean False."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"Environment variable {name} has an invalid value {raw!r}: use true or false."
    )


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env_typed("ALLOWED_HOSTS", env.list, [])
CSRF_TRUSTED_ORIGINS = env_typed("CSRF_TRUSTED_ORIGINS", env.list, [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "phonenumber_field",
    # Second factor (authenticator apps, backup codes; SMS codes are staff.SMSDevice) and
    # brute-force protection of the log-in.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    # Project apps; dependencies point one way:
    # invoices -> services -> clients -> staff -> company, messaging; dashboard composes them all.
    "staff",
    "clients",
    "services",
    "invoices",
    "cms_project.messaging",
    "cms_project.company",
    # Client self sign-up: above staff and clients (it creates both a user and a client).
    "cms_project.signup",
    "cms_project.dashboard",
    # make bench (no models, no URLs in production: its floor view has its own URLconf).
    "cms_project.benchmarks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle timeout, absolute session lifetime, and "set up 2FA first" when policy requires it.
    "staff.middleware.SessionSecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes asks: turns a lock-out into the log-in page with a clear message.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cms_project.urls"
WSGI_APPLICATION = "cms_project.wsgi.application"

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
                "django.template.context_processors.csp",
                "cms_project.context_processors.company",
            ],
            # cms_project is not an app, so its template tags are registered by name.
            "libraries": {
                "money": "cms_project.templatetags.money",
                "navigation": "cms_project.templatetags.navigation",
            },
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASES = {
    "default": env_typed("DATABASE_URL", env.db_url, f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Persistent connections double throughput on PostgreSQL (GUIDE §5); health checks make
# them safe across database restarts.
DATABASES["default"]["CONN_MAX_AGE"] = env_typed("CONN_MAX_AGE", env.int, 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -----------------------------------------------------------------------------
AUTH_USER_MODEL = "staff.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # one day
# The lock-out check comes first, then Django's own password check (see staff.backends).
AUTHENTICATION_BACKENDS = [
    "staff.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Django's own admin site, for superusers only, away from the default /admin/ path.
ADMIN_URL = env("ADMIN_URL", default="site-admin/")
if not re.fullmatch(r"[A-Za-z0-9_-]+/", ADMIN_URL):
    raise ImproperlyConfigured(
        "ADMIN_URL must be a path segment ending in '/', e.g. 'site-admin/'."
    )

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="America/Chicago")  # the company's time zone
if TIME_ZONE not in zoneinfo.available_timezones():
    raise ImproperlyConfigured(f"TIME_ZONE {TIME_ZONE!r} is not a known IANA time zone.")
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Invoices and other private files live here; they are never served from a public URL.
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Forms --------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
PHONENUMBER_DEFAULT_REGION = env("PHONE_REGION", default="US")


# --- Email --------------------------------------------------------------------------------
# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587 ; console output by default.
def mailers_from_url(url: str) -> dict:
    """Turn an EMAIL_URL into Django 6.1's MAILERS setting (the EMAIL_* settings are deprecated)."""
    try:
        cfg = environ.Env.email_url_config(url)
    except Exception as exc:
        raise ImproperlyConfigured(f"EMAIL_URL is not a valid email URL: {exc}") from exc
    backend = cfg["EMAIL_BACKEND"]
    options: dict = {}
    if backend.endswith("smtp.EmailBackend"):
        options = {
            "host": cfg.get("EMAIL_HOST") or "localhost",
            "port": cfg.get("EMAIL_PORT") or None,
            "username": cfg.get("EMAIL_HOST_USER") or "",
            "password": cfg.get("EMAIL_HOST_PASSWORD") or "",
            "use_tls": bool(cfg.get("EMAIL_USE_TLS")),
            "use_ssl": bool(cfg.get("EMAIL_USE_SSL")),
            "timeout": 20,
        }
    elif backend.endswith("filebased.EmailBackend"):
        options = {"file_path": cfg["EMAIL_FILE_PATH"]}
    return {"default": {"BACKEND": backend, "OPTIONS": options}}


MAILERS = mailers_from_url(env("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env(
    "DEFAULT_FROM_EMAIL", default="Data Plus Fiber <billing@dataplusfiber.example>"
)
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# --- Background tasks ---------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
# Without a broker, tasks run in-process at the point they are enqueued (after commit).
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-task leaves it to be redone, not lost
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    # Subscriptions whose last day has passed become cancelled, just after midnight.
    "services-close-ended-subscriptions": {
        "task": "services.tasks.close_ended_subscriptions",
        "schedule": crontab(hour=0, minute=10),
    },
}
# Retries wait up to MESSAGING_RETRY_MAX_SECONDS as countdown messages; Redis hands an unacked
# message to another worker after the visibility timeout, so it must be longer than that.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Messaging: SMS backend and delivery retries (cms_project/messaging) --------------------
OUTBOX_SMS_BACKEND = "cms_project.messaging.sms.outbox.OutboxSmsBackend"
TWILIO_SMS_BACKEND = "cms_project.messaging.sms.twilio.TwilioSmsBackend"
TWILIO_VARIABLES = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")


def sms_settings_from_env(values: dict) -> dict:
    """SMS_BACKEND and TWILIO_* from the environment, refusing a half-configured Twilio.

    All three Twilio variables set: the Twilio backend; none: the outbox backend (messages are
    recorded for admins to read). One or two of them is a typo or a forgotten secret, and
    would silently send nothing, so it stops start-up instead.
    """
    twilio = {name: values.get(name, "").strip() for name in TWILIO_VARIABLES}
    missing = [name for name, value in twilio.items() if not value]
    if missing and len(missing) < len(TWILIO_VARIABLES):
        raise ImproperlyConfigured(
            "Twilio is half-configured: set all of TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
            f"TWILIO_FROM_NUMBER, or none of them to use the SMS outbox. Missing: {', '.join(missing)}."
        )
    backend = values.get("SMS_BACKEND", "").strip() or (
        OUTBOX_SMS_BACKEND if missing else TWILIO_SMS_BACKEND
    )
    if backend == TWILIO_SMS_BACKEND and missing:
        raise ImproperlyConfigured(
            "SMS_BACKEND is the Twilio backend but TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
            "TWILIO_FROM_NUMBER are not set."
        )
    number = twilio["TWILIO_FROM_NUMBER"]
    if number and not re.fullmatch(r"\+[1-9][0-9]{6,14}", number):
        raise ImproperlyConfigured(
            f"TWILIO_FROM_NUMBER must be an E.164 number such as +15551234567, not {number!r}."
        )
    return {"SMS_BACKEND": backend, **twilio}


_sms = sms_settings_from_env(
    {name: env(name, default="") for name in ("SMS_BACKEND", *TWILIO_VARIABLES)}
)
SMS_BACKEND = _sms["SMS_BACKEND"]
TWILIO_ACCOUNT_SID = _sms["TWILIO_ACCOUNT_SID"]
TWILIO_AUTH_TOKEN = _sms["TWILIO_AUTH_TOKEN"]
TWILIO_FROM_NUMBER = _sms["TWILIO_FROM_NUMBER"]
# The exact public URL Twilio posts inbound SMS to, when a proxy makes it differ from what
# Django sees (the signature covers the URL). Empty: the request's own absolute URL.
TWILIO_INBOUND_URL = env("TWILIO_INBOUND_URL", default="")

# A failed attempt is retried after 1, 2, 4… minutes, capped at an hour, up to 12 attempts
# (about 6 hours of outage) before the delivery is marked failed.
MESSAGING_MAX_ATTEMPTS = env_typed("MESSAGING_MAX_ATTEMPTS", env.int, 12)
MESSAGING_RETRY_BASE_SECONDS = env_typed("MESSAGING_RETRY_BASE_SECONDS", env.int, 60)
MESSAGING_RETRY_MAX_SECONDS = env_typed("MESSAGING_RETRY_MAX_SECONDS", env.int, 60 * 60)
# Pending deliveries not picked up this long after they were due are enqueued again.
MESSAGING_REQUEUE_AFTER_MINUTES = env_typed("MESSAGING_REQUEUE_AFTER_MINUTES", env.int, 5)
# Deliveries with these purposes carry secrets (one-time codes, links that reset a password,
# verify an address or confirm an email change): their text is hidden in the staff log and
# they are never re-sent (ask for a new one instead). See staff/mail.py.
MESSAGING_SENSITIVE_PURPOSES = (
    "2fa",
    "otp",
    "verification",
    "password-reset",
    "password-link",
    "signup-existing",
    "email-change",
)
# How long a worker may take to send one message before another may try it.
MESSAGING_CLAIM_SECONDS = 5 * 60
CELERY_BEAT_SCHEDULE["messaging-requeue-stale-deliveries"] = {
    "task": "cms_project.messaging.tasks.requeue_stale_deliveries",
    "schedule": 60.0,
}
# The monthly billing run: on the 1st at 06:00 (company time zone), for the month that ended.
CELERY_BEAT_SCHEDULE["invoices-monthly-billing-run"] = {
    "task": "invoices.tasks.monthly_billing_task",
    "schedule": crontab(minute=0, hour=6, day_of_month=1),
}

# Collections: payment reminders due today, then suspensions for non-payment, at 08:00 company
# time (CELERY_TIMEZONE follows TIME_ZONE). Running it twice sends nothing twice.
CELERY_BEAT_SCHEDULE["invoices-daily-collections"] = {
    "task": "invoices.tasks.collections_daily_task",
    "schedule": crontab(minute=0, hour=8),
}

# --- Online payments: Stripe, or the sandbox provider (invoices/providers/) ------------------
STRIPE_VARIABLES = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")


def payment_settings_from_env(values: dict) -> dict:
    """PAYMENT_PROVIDER and STRIPE_* from the environment.

    STRIPE_SECRET_KEY set: Stripe, which then needs STRIPE_WEBHOOK_SECRET too (without it no
    webhook can be verified and paid checkouts would be recorded only when the client comes
    back). Neither set: the sandbox provider, a clearly labelled test-mode card page. Anything
    in between, or keys of the wrong kind, stops start-up.
    """
    key = values.get("STRIPE_SECRET_KEY", "").strip()
    webhook = values.get("STRIPE_WEBHOOK_SECRET", "").strip()
    if webhook and not key:
        raise ImproperlyConfigured(
            "STRIPE_WEBHOOK_SECRET is set but STRIPE_SECRET_KEY is not: set both to take card "
            "payments with Stripe, or neither to use the sandbox provider."
        )
    if key and not webhook:
        raise ImproperlyConfigured(
            "STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: Stripe's webhook "
            "signatures cannot be checked without it (Dashboard > Developers > Webhooks)."
        )
    if key and not re.fullmatch(r"(sk|rk)_(test|live)_[A-Za-z0-9]+", key):
        raise ImproperlyConfigured(
            "STRIPE_SECRET_KEY must be a Stripe secret key (sk_live_…, sk_test_… or rk_…)."
        )
    if webhook and not re.fullmatch(r"whsec_[A-Za-z0-9]+", webhook):
        raise ImproperlyConfigured("STRIPE_WEBHOOK_SECRET must be a signing secret (whsec_…).")
    return {
        "PAYMENT_PROVIDER": "stripe" if key else "sandbox",
        "STRIPE_SECRET_KEY": key,
        "STRIPE_WEBHOOK_SECRET": webhook,
    }


_payments = payment_settings_from_env({name: env(name, default="") for name in STRIPE_VARIABLES})
PAYMENT_PROVIDER = _payments["PAYMENT_PROVIDER"]
STRIPE_SECRET_KEY = _payments["STRIPE_SECRET_KEY"]
STRIPE_WEBHOOK_SECRET = _payments["STRIPE_WEBHOOK_SECRET"]
# How long a client has to finish paying before a started checkout expires.
ONLINE_CHECKOUT_MINUTES = env_typed("ONLINE_CHECKOUT_MINUTES", env.int, 60)

# --- Security (strict by default; production.py adds the HTTPS-only parts) -----------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12  # absolute lifetime: 12 hours
# No inline scripts or styles anywhere: every asset is a static file of ours.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# --- Company defaults (the editable company settings record starts from these) -------------
CURRENCY = env("CURRENCY", default="USD")
if not re.fullmatch(r"[A-Z]{3}", CURRENCY):
    raise ImproperlyConfigured("CURRENCY must be an ISO 4217 code such as USD or EUR.")
try:
    DEFAULT_TAX_RATE = Decimal(env("DEFAULT_TAX_RATE", default="0.00"))
except InvalidOperation as exc:
    raise ImproperlyConfigured("DEFAULT_TAX_RATE must be a percentage such as 8.25.") from exc
if not (Decimal("0") <= DEFAULT_TAX_RATE <= Decimal("100")):
    raise ImproperlyConfigured("DEFAULT_TAX_RATE must be between 0 and 100 (a percentage).")
COMPANY = {
    "name": env("COMPANY_NAME", default="Data Plus Fiber"),
    "address": env("COMPANY_ADDRESS", default="100 Main Street, Springfield, IL 62701"),
    "tax_id": env("COMPANY_TAX_ID", default=""),
    "payment_terms_days": env_typed("PAYMENT_TERMS_DAYS", env.int, 15),
    "portal_url": env("PORTAL_URL", default="http://127.0.0.1:8000"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # django-axes logs every log-in at INFO; lock-outs (WARNING) are what operators need.
    # axes logs every attempt at INFO; WeasyPrint every rendering step. Warnings still show.
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}},
}

SESSION_ENGINE = "staff.sessions"

# --- Cache (rate limits of sign-up and SMS; shared by every web process in production) -------
# e.g. CACHE_URL=rediscache://127.0.0.1:6379/1 ; the default only works with a single process.
CACHES = {"default": env_typed("CACHE_URL", env.cache_url, "locmemcache://")}

# --- Sessions, two-factor, brute-force protection, sign-up (docs/security.md) ---------------
# Staff and admins are logged out after this long without a request; 0 turns it off.
STAFF_IDLE_TIMEOUT_MINUTES = env_typed("STAFF_IDLE_TIMEOUT_MINUTES", env.int, 30)
# Clients: 0 = no idle timeout (the absolute lifetime, SESSION_COOKIE_AGE, still applies).
CLIENT_IDLE_TIMEOUT_MINUTES = env_typed("CLIENT_IDLE_TIMEOUT_MINUTES", env.int, 0)
# Reverse proxies in front of Django that append to X-Forwarded-For (0: use REMOTE_ADDR).
# Decides which address lock-outs and the audit log see; never trust a header nobody sets.
TRUSTED_PROXY_COUNT = env_typed("TRUSTED_PROXY_COUNT", env.int, 0)

OTP_TOTP_ISSUER = COMPANY["name"]
OTP_TOTP_SYNC = False  # accept exactly one 30-second step either side, never learn more drift
OTP_TOTP_THROTTLE_FACTOR = 1  # wrong codes: wait 1 s, 2 s, 4 s, ... before the next try
OTP_STATIC_THROTTLE_FACTOR = 1
SMS_CODE_VALID_MINUTES = env_typed("SMS_CODE_VALID_MINUTES", env.int, 10)
SMS_CODE_COOLDOWN_SECONDS = 60  # between two texts to the same phone
SMS_CODES_PER_HOUR = 5  # per phone (device), whatever the cool-down

# django-axes: failures are counted per account (any address) and per address (any account);
# either reaching the limit refuses log-in for the cool-off period. See docs/security.md.
AXES_ENABLED = env_typed("AXES_ENABLED", env.bool, True)
AXES_FAILURE_LIMIT = env_typed("LOGIN_FAILURE_LIMIT", env.int, 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_typed("LOGIN_COOLOFF_MINUTES", env.int, 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "staff.lockout.username_from_request"
AXES_CLIENT_IP_CALLABLE = "staff.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "staff.lockout.lockout_response"
# A success must not wipe the counters: anyone could reset their address's count by logging
# into an account of their own between guesses.
AXES_RESET_ON_SUCCESS = False
# The cool-off runs from the lock-out; attempts during it are logged but do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]  # masked in stored POST data
AXES_VERBOSE = False  # our own log lines and the audit log say it better

SIGNUP_LINK_MAX_AGE_HOURS = env_typed("SIGNUP_LINK_MAX_AGE_HOURS", env.int, 48)
