"""Django settings, configured by environment variables (12-factor).

Every variable is prefixed ``RINGUP_`` except the conventional ``DATABASE_URL``.
The defaults give an embedded, zero-set-up installation: SQLite, a file cache and a
filesystem message broker under ``RINGUP_DATA_DIR`` (``./var``).
"""

import json
import os
import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from ringup.notifications.conf import email_settings

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("RINGUP_DATA_DIR", Path.cwd() / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """The configured key, or one generated once and kept in the data folder.

    A try-out installation must not ship a well-known key, and must keep sessions valid
    across restarts; production sets RINGUP_SECRET_KEY.
    """
    configured = os.environ.get("RINGUP_SECRET_KEY")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("RINGUP_DEBUG", False)
ALLOWED_HOSTS = env_list("RINGUP_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("RINGUP_CSRF_TRUSTED_ORIGINS", "")
_PORT = os.environ.get("PORT", "8000")
PUBLIC_URL = os.environ.get("RINGUP_PUBLIC_URL", f"http://127.0.0.1:{_PORT}").rstrip("/")
OPERATOR_NAME = os.environ.get("RINGUP_OPERATOR_NAME", "Ringup Telecom")
SALES_EMAIL = os.environ.get("RINGUP_SALES_EMAIL", "sales@ringup.example")
SALES_PHONE = os.environ.get("RINGUP_SALES_PHONE", "+7 495 000-00-00")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ringup.events",
    "ringup.apikeys",
    "ringup.notifications",
    "ringup.catalog",
    "ringup.customers",
    "ringup.billing",
    "ringup.usage",
    "ringup.provisioning",
    "ringup.marketing.segments",
    "ringup.marketing.mailings",
    "ringup.marketing.promotions",
    "ringup.marketing.referrals",
    "ringup.marketing.engagement",
    "ringup.sales.deals",
    "ringup.sales.margins",
    "ringup.analytics",
    "ringup.site",
    "ringup.portal",
    "ringup.demo",
    # After the project's apps, so the site's templates override allauth's.
    "allauth",
    "allauth.account",
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
    "allauth.account.middleware.AccountMiddleware",
    "ringup.site.middleware.ReferralMiddleware",
]

ROOT_URLCONF = "ringup.config.urls"
WSGI_APPLICATION = "ringup.config.wsgi.application"

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
                "ringup.site.context_processors.operator",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'ringup.sqlite3'}"),
        conn_max_age=int(os.environ.get("RINGUP_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; the busy timeout turns a
    # short write lock into a wait instead of "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL compiles every plan costed above jit_above_cost to machine code. Ringup's
    # big queries are index probes and sums, which compiled code hardly speeds up: a
    # segment count over a million customers spends 0.5–0.7 s compiling and runs 12 %
    # faster without (docs/segments.md). Options given in DATABASE_URL take precedence.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SILENCED_SYSTEM_CHECKS: list[str] = []
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Covering indexes (INCLUDE) are PostgreSQL's speed-up; SQLite keeps the plain index.
    SILENCED_SYSTEM_CHECKS.append("models.W040")

CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["RINGUP_CACHE_URL"],
        }
        if os.environ.get("RINGUP_CACHE_URL")
        else {
            # A real, shared cache even in the embedded default: rate limits must hold
            # across the web server's worker processes.
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2 for new passwords; the others still check passwords stored before it.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The operator's time zone: billing periods and "today" are computed in it.
TIME_ZONE = os.environ.get("RINGUP_TIME_ZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from here after collectstatic
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

LOGIN_URL = "/accounts/login/"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("RINGUP_HTTPS", False):
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # An operator whose subdomains cannot all serve HTTPS turns preloading off; the
    # deploy check's reminder about it is then silenced, being a decision, not an oversight.
    SECURE_HSTS_PRELOAD = env_bool("RINGUP_HSTS_PRELOAD", True)
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS.append("security.W021")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Background work. The embedded default is a broker kept in plain files, so a try-out
# needs no server; production points RINGUP_BROKER_URL at Redis or RabbitMQ.
_BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("RINGUP_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    for sub in ("in", "processed", "control"):
        (_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "in"),
        "data_folder_out": str(_BROKER_DIR / "in"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        # Broadcast (pidbox) exchanges; kombu's default is ./control in the working dir.
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("RINGUP_TASKS_EAGER", False)

# Rate decks for the CDR import (ringup import-cdrs): CSV files, docs/cdr-formats.md.
# The defaults are the demo operator's decks for Russian destinations.
_DECKS = Path(__file__).resolve().parent.parent / "usage" / "decks"
RINGUP_RETAIL_DECK = os.environ.get("RINGUP_RETAIL_DECK", str(_DECKS / "retail.csv"))
RINGUP_CARRIER_DECK = os.environ.get("RINGUP_CARRIER_DECK", str(_DECKS / "carrier.csv"))
# A claimed CDR file whose worker has not finished it after this long may be claimed again.
RINGUP_CDR_CLAIM_TIMEOUT = int(os.environ.get("RINGUP_CDR_CLAIM_TIMEOUT", "3600"))
# Yearly discount rate of customer lifetime values (docs/arpu-levers.md), a decimal string.
RINGUP_CLV_DISCOUNT_RATE = os.environ.get("RINGUP_CLV_DISCOUNT_RATE", "0.10")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("RINGUP_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Billing (docs/billing.md): VAT, payment terms, dunning, number series, and the operator's
# legal and bank details printed on invoices. The defaults are placeholders to replace.
BILLING = {
    "VAT_RATE": os.environ.get("RINGUP_VAT_RATE", "20"),
    # Russian B2C prices include VAT; set 0 to add VAT on top of catalog prices.
    "VAT_INCLUDED": env_bool("RINGUP_VAT_INCLUDED", True),
    "PAYMENT_TERMS_DAYS": int(os.environ.get("RINGUP_PAYMENT_TERMS_DAYS", "10")),
    "DUNNING_PAST_DUE_DAYS": int(os.environ.get("RINGUP_DUNNING_PAST_DUE_DAYS", "3")),
    "DUNNING_SUSPEND_DAYS": int(os.environ.get("RINGUP_DUNNING_SUSPEND_DAYS", "14")),
    # Days a trial that ended without the customer's decision stays suspended before it ends.
    "TRIAL_GRACE_DAYS": int(os.environ.get("RINGUP_TRIAL_GRACE_DAYS", "7")),
    "INVOICE_PREFIX": os.environ.get("RINGUP_INVOICE_PREFIX", "INV-"),
    "CREDIT_NOTE_PREFIX": os.environ.get("RINGUP_CREDIT_NOTE_PREFIX", "CN-"),
    "SELLER": {
        "legal_name": os.environ.get("RINGUP_SELLER_LEGAL_NAME", f"{OPERATOR_NAME} LLC"),
        "address": os.environ.get(
            "RINGUP_SELLER_ADDRESS", "1 Example Street, office 100, Moscow 101000, Russia"
        ),
        "tax_id": os.environ.get("RINGUP_SELLER_TAX_ID", "7700000000"),
        "tax_reg_code": os.environ.get("RINGUP_SELLER_KPP", "770001001"),
        "reg_number": os.environ.get("RINGUP_SELLER_OGRN", "1027700000000"),
        "bank_name": os.environ.get("RINGUP_SELLER_BANK", "Example Bank JSC, Moscow"),
        "bank_bic": os.environ.get("RINGUP_SELLER_BIC", "044500000"),
        "bank_account": os.environ.get("RINGUP_SELLER_ACCOUNT", "40702810000000000000"),
        "bank_corr_account": os.environ.get("RINGUP_SELLER_CORR_ACCOUNT", "30101810000000000000"),
        "email": os.environ.get("RINGUP_SELLER_EMAIL", "billing@ringup.example"),
        "phone": os.environ.get("RINGUP_SELLER_PHONE", SALES_PHONE),
    },
}

# Periodic billing work, in the operator's time zone (ringup.billing.tasks).
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "bill-ended-periods": {"task": "ringup.billing.bill", "schedule": crontab(hour=0, minute=30)},
    "advance-subscriptions": {
        "task": "ringup.billing.advance_subscriptions",
        "schedule": crontab(minute=5),
    },
    "dunning": {"task": "ringup.billing.dunning", "schedule": crontab(hour=6, minute=0)},
}

# Events outbox (docs/events.md): a dispatch task follows every commit that emits; the
# sweep catches what a lost message or a dead worker left behind.
RINGUP_OUTBOX_SWEEP_SECONDS = float(os.environ.get("RINGUP_OUTBOX_SWEEP_SECONDS", "60"))
RINGUP_EVENTS_MAX_ATTEMPTS = int(os.environ.get("RINGUP_EVENTS_MAX_ATTEMPTS", "10"))
RINGUP_EVENTS_BACKOFF_SECONDS = float(os.environ.get("RINGUP_EVENTS_BACKOFF_SECONDS", "30"))
RINGUP_EVENTS_BACKOFF_MAX_SECONDS = float(
    os.environ.get("RINGUP_EVENTS_BACKOFF_MAX_SECONDS", "21600")
)
# Promotions (docs/promotions.md): turnover and loyalty discounts, before the bill run.
CELERY_BEAT_SCHEDULE["promotions-automatic"] = {
    "task": "ringup.promotions.apply_automatic",
    "schedule": crontab(hour=0, minute=10),
}
CELERY_BEAT_SCHEDULE["dispatch-events"] = {
    "task": "ringup.events.dispatch",
    "schedule": RINGUP_OUTBOX_SWEEP_SECONDS,
}

# Provisioning (docs/provisioning.md): "demo" (a simulated PBX in the back office) or
# "webhook:<url>", signed per Standard Webhooks with the whsec_… secret.
RINGUP_PROVISIONING = os.environ.get("RINGUP_PROVISIONING", "demo")
RINGUP_PROVISIONING_SECRET = os.environ.get("RINGUP_PROVISIONING_SECRET", "")
RINGUP_PROVISIONING_TIMEOUT = min(float(os.environ.get("RINGUP_PROVISIONING_TIMEOUT", "30")), 30)
# Seconds to wait after each failed attempt: immediately, then 5 s … 24 h (about 3 days).
RINGUP_PROVISIONING_RETRY_SCHEDULE = env_list(
    "RINGUP_PROVISIONING_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,50400,72000,86400"
)
# Staff alerted by e-mail (django mail_admins): a disabled endpoint, an operation given up.
ADMINS = [("Ringup staff", address) for address in env_list("RINGUP_ADMINS", "")]
EMAIL_SUBJECT_PREFIX = f"[{OPERATOR_NAME}] "
# Follow-up rules (calls dropped, quiet customers) and snoozed tasks coming due.
CELERY_BEAT_SCHEDULE["engagement-daily"] = {
    "task": "ringup.engagement.daily",
    "schedule": crontab(hour=6, minute=0),
}
# Referral rewards on refunded invoices are taken back (docs/referrals.md, "Clawback").
CELERY_BEAT_SCHEDULE["referral-clawbacks"] = {
    "task": "ringup.referrals.claw_back_refunds",
    "schedule": crontab(minute=15),
}
CELERY_BEAT_SCHEDULE["deliver-provisioning"] = {
    "task": "ringup.provisioning.deliver",
    "schedule": RINGUP_OUTBOX_SWEEP_SECONDS,
}
# Uploaded call records are analysed in the background; the sweep picks up lost tasks and
# bills whose worker died (a claim older than the lease, in seconds).
CELERY_BEAT_SCHEDULE["deals-analyse-bills"] = {
    "task": "ringup.deals.analyse_bills",
    "schedule": RINGUP_OUTBOX_SWEEP_SECONDS,
}
RINGUP_BILL_ANALYSIS_LEASE = int(os.environ.get("RINGUP_BILL_ANALYSIS_LEASE", "900"))
# Trial accounts (toll-fraud guard): a credit cap and domestic, non-premium destinations.
# The longest matching prefix decides; the defaults are Russia (+7) without Kazakhstan
# (+76, +77) and the premium-rate range +7 809.
RINGUP_TRIAL_CREDIT_CAP = os.environ.get("RINGUP_TRIAL_CREDIT_CAP", "300.00")
RINGUP_TRIAL_ALLOWED_PREFIXES = env_list("RINGUP_TRIAL_ALLOWED_PREFIXES", "7")
RINGUP_TRIAL_BLOCKED_PREFIXES = env_list("RINGUP_TRIAL_BLOCKED_PREFIXES", "76,77,7809")

# E-mail and SMS (docs/signup.md). RINGUP_EMAIL_URL picks SMTP; without it every message
# is an .eml file in the mail folder, shown in the back office ("Mail folder").
_EMAIL = email_settings(os.environ.get("RINGUP_EMAIL_URL", ""))
EMAIL_BACKEND = _EMAIL["EMAIL_BACKEND"]
EMAIL_HOST = _EMAIL.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _EMAIL.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _EMAIL.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _EMAIL.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _EMAIL.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _EMAIL.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get(
    "RINGUP_EMAIL_FROM", f"{OPERATOR_NAME} <noreply@ringup.example>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
RINGUP_MAIL_DIR = DATA_DIR / "mail"
# The operator's brand in e-mails: the colour of the header and buttons.
RINGUP_BRAND_COLOUR = os.environ.get("RINGUP_BRAND_COLOUR", "#4338ca")
# A class with send(phone, text); the default writes each text into the mail folder.
RINGUP_SMS_PROVIDER = os.environ.get(
    "RINGUP_SMS_PROVIDER", "ringup.notifications.sms.MailFolderSMS"
)

# Accounts: sign-up, login by e-mail, mandatory e-mail verification, phone codes
# (django-allauth; docs/signup.md).
ACCOUNT_ADAPTER = "ringup.site.adapter.AccountAdapter"
ACCOUNT_FORMS = {"signup": "ringup.site.account_forms.TrialSignupForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "phone*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
# One trial per address and number is the rule, and the API says so with a 422: hiding
# which addresses exist would not hide it.
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # mail scanners follow links; a button press confirms
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = int(os.environ.get("RINGUP_EMAIL_LINK_DAYS", "3"))
ACCOUNT_EMAIL_CONFIRMATION_HMAC = False  # stored keys: a link works once
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"{OPERATOR_NAME}: "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if env_bool("RINGUP_HTTPS", False) else "http"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_USER_DISPLAY = lambda user: user.email  # noqa: E731 (usernames are generated)
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = True
ACCOUNT_PHONE_VERIFICATION_MAX_ATTEMPTS = 3
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 15 * 60
# Six digits: what phones offer to autofill from an SMS and a numeric keypad types.
ACCOUNT_PHONE_VERIFICATION_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_RATE_LIMITS = {
    "login": os.environ.get("RINGUP_RATE_LOGIN", "30/m/ip"),
    "login_failed": os.environ.get("RINGUP_RATE_LOGIN_FAILED", "10/m/ip,5/5m/key"),
    "signup": os.environ.get("RINGUP_RATE_SIGNUP", "10/h/ip"),
    # Key: the first 7 digits of the E.164 number (country and area or operator code).
    "signup_phone_prefix": os.environ.get("RINGUP_RATE_SIGNUP_PREFIX", "10/h/key"),
    "reset_password": os.environ.get("RINGUP_RATE_RESET", "20/m/ip,5/h/key"),
    "reset_password_from_key": "20/m/ip",
    "verify_phone": "1/30s/key,3/m/ip",
}
PASSWORD_RESET_TIMEOUT = 3 * 3600  # reset links expire after three hours
LOGIN_REDIRECT_URL = "/portal/"
# Phone numbers typed without a country code are read in this country.
RINGUP_PHONE_REGION = os.environ.get("RINGUP_PHONE_REGION", "RU")
ACCOUNT_LOGOUT_REDIRECT_URL = "/"

# Mailings (docs/mailings.md): messages a second per worker (0: as fast as SMTP takes
# them), recipients claimed per batch, the lease of a claimed batch, a send task's time
# slice, the scheduler's tick, and the address of the List-Unsubscribe mailto with the
# Maildir its mail is delivered to (no address: the header offers the one-click URL only,
# since a mailbox nobody reads would lose those requests).
RINGUP_MAILINGS_RATE = float(os.environ.get("RINGUP_MAILINGS_RATE", "0"))
RINGUP_MAILINGS_BATCH = int(os.environ.get("RINGUP_MAILINGS_BATCH", "20"))
RINGUP_MAILINGS_LEASE_SECONDS = float(os.environ.get("RINGUP_MAILINGS_LEASE_SECONDS", "300"))
RINGUP_MAILINGS_SEND_SECONDS = float(os.environ.get("RINGUP_MAILINGS_SEND_SECONDS", "50"))
RINGUP_MAILINGS_UNSUBSCRIBE_MAILTO = os.environ.get("RINGUP_MAILINGS_UNSUBSCRIBE_MAILTO", "")
RINGUP_MAILINGS_UNSUBSCRIBE_MAILDIR = os.environ.get("RINGUP_MAILINGS_UNSUBSCRIBE_MAILDIR", "")
CELERY_BEAT_SCHEDULE["mailings-unsubscribe-mailbox"] = {
    "task": "ringup.mailings.unsubscribe_mailbox",
    "schedule": float(os.environ.get("RINGUP_MAILINGS_TICK_SECONDS", "60")),
}
CELERY_BEAT_SCHEDULE["mailings-schedule"] = {
    "task": "ringup.mailings.schedule",
    "schedule": float(os.environ.get("RINGUP_MAILINGS_TICK_SECONDS", "60")),
}

# Revenue analytics (docs/analytics.md): the nightly recompute of the stored aggregates,
# the monthly report on the 1st and who receives it (default: RINGUP_ADMINS, else the
# active staff), and the trailing-12-month revenue that makes a customer "loyal".
RINGUP_REPORT_RECIPIENTS = env_list("RINGUP_REPORT_RECIPIENTS", "")
RINGUP_LOYALTY_REVENUE = os.environ.get("RINGUP_LOYALTY_REVENUE", "30000")
CELERY_BEAT_SCHEDULE["analytics-recompute"] = {
    "task": "ringup.analytics.recompute",
    "schedule": crontab(hour=2, minute=0),
}
CELERY_BEAT_SCHEDULE["analytics-monthly-report"] = {
    "task": "ringup.analytics.send_monthly_report",
    "schedule": crontab(day_of_month=1, hour=7, minute=0),
}

# Margin monitor and risk flags (docs/margins.md): the target margin in percent of retail
# revenue, the pricing owner (staff username or e-mail) who gets the alerts, the country
# whose national numbers the stored CDRs hold (to re-cost them), and the risk flags'
# window, support-cost estimate per customer per month and threshold overrides (JSON).
RINGUP_MARGIN_TARGET = os.environ.get("RINGUP_MARGIN_TARGET", "30")
RINGUP_PRICING_OWNER = os.environ.get("RINGUP_PRICING_OWNER", "")
# The carrier whose deck versions cost imported calls (empty: the latest imported one's).
RINGUP_COSTING_CARRIER = os.environ.get("RINGUP_COSTING_CARRIER", "")
RINGUP_CDR_COUNTRY = os.environ.get("RINGUP_CDR_COUNTRY", "RU")
RINGUP_RISK_DAYS = int(os.environ.get("RINGUP_RISK_DAYS", "30"))
RINGUP_SUPPORT_COST_MONTHLY = os.environ.get("RINGUP_SUPPORT_COST_MONTHLY", "150.00")
RINGUP_RISK_THRESHOLDS = json.loads(os.environ.get("RINGUP_RISK_THRESHOLDS", "{}"))
CELERY_BEAT_SCHEDULE["margins-risk-flags"] = {
    "task": "ringup.margins.risk_flags",
    "schedule": crontab(hour=3, minute=30),
}
