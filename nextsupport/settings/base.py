"""Settings shared by every environment.

Every value that differs between machines is read through `env`, one
django-environ reader that also accepts `<NAME>_FILE` (a path whose contents are
the value), so secrets can come from mounted files instead of the environment.
The environment modules (local, test, production) decide what has a default.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

from nextsupport.headers import content_security_policy

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# Everything the platform writes on a developer machine (embedded PostgreSQL,
# broker queues, uploaded files, generated dev secrets) lives under .data/.
DATA_DIR = BASE_DIR / ".data"

env = environ.FileAwareEnv()

# --- Core -------------------------------------------------------------------

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
TIME_ZONE = "Europe/London"
LANGUAGE_CODE = "en-gb"
USE_I18N = True
USE_TZ = True
ROOT_URLCONF = "nextsupport.urls"
WSGI_APPLICATION = "nextsupport.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

DJANGO_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # The admin, as an OTP-verified site for staff only (accounts.admin_site).
    "accounts.apps.AdminConfig",
    "django.contrib.humanize",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "storages",
    "allauth",
    "allauth.account",
    "django_otp",
    "django_otp.plugins.otp_totp",
]
LOCAL_APPS = [
    # The project package is an app too: it owns the platform primitives every
    # other app builds on (encrypted fields, audit trail, personal-data registry).
    "nextsupport",
    "accounts",
    "consumers",
    "campaigns",
    "compliance",
    "cookies",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Django's own CSP middleware (policy: SECURE_CSP), and our Permissions-Policy.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "nextsupport.headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise, so static files keep their long cache lifetimes.
    "nextsupport.headers.PrivateResponseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session passed the second factor?
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Ends sessions the user signed out elsewhere, then keeps every portal
    # page, API call and admin page behind a verified second factor.
    "accounts.middleware.SignInSessionMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
]

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
                "nextsupport.context_processors.site",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# PostgreSQL everywhere. Environment modules supply the default URL.


def database(default: str | None = None) -> dict:
    config = env.db("DATABASE_URL", default=default) if default else env.db("DATABASE_URL")
    if not config.get("ENGINE", "").endswith("postgresql"):
        raise environ.ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgresql://...).")
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    return config


# --- Passwords --------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # allauth's backend: e-mail login, rate limits and lockout via the adapter.
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "home"

# --- Sign-up and sign-in (django-allauth) ---------------------------------------

ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm", "login": "accounts.forms.LoginForm"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # the link opens a page with a button: mail scanners cannot confirm
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_CHANGE_EMAIL = True  # a new address replaces the old one only once it is verified
ACCOUNT_EMAIL_NOTIFICATIONS = True  # password and e-mail changes are announced to the owner
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_SESSION_REMEMBER = False  # sessions end with the browser
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SIGNUP_FORM_HONEYPOT_FIELD = "website"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "NextSupport: "
ACCOUNT_RATE_LIMITS = {
    # Per address only: allauth's per-e-mail limit would let anyone lock a person out from
    # anywhere. Failures per e-mail are counted per network instead (accounts.sign_in_limits).
    "login_failed": "20/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}
SESSION_COOKIE_AGE = 60 * 60 * 12  # a working day; the browser session ends sooner
# Messages ("Invitation sent to sam@...") wait in the session, server-side: the
# default cookie storage is signed, not encrypted, so anyone with the browser could read them.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Repeated failures (password or second factor) for an address pause its sign-in from that
# network for a while; a slower count across every network pauses it everywhere.
SIGN_IN_LOCKOUT_THRESHOLD = 5
SIGN_IN_LOCKOUT_MINUTES = 15
SIGN_IN_ADDRESS_LIMIT_PER_HOUR = 50
TEAM_INVITATION_VALID_DAYS = 7

# --- Two-factor authentication (django-otp) ---------------------------------------

OTP_TOTP_ISSUER = "NextSupport"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- Static and uploaded files ---------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=DATA_DIR / "media")
MEDIA_URL = "/media/"
RECORDINGS_ROOT = env.path("RECORDINGS_ROOT", default=DATA_DIR / "recordings")
# Presigned links to private objects (recordings, exports) live this long.
PRIVATE_URL_EXPIRY_SECONDS = env.int("PRIVATE_URL_EXPIRY_SECONDS", default=300)

AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
AWS_RECORDINGS_BUCKET_NAME = env("AWS_RECORDINGS_BUCKET_NAME", default=AWS_STORAGE_BUCKET_NAME)
AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=None)
AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default="eu-west-2")
AWS_S3_KMS_KEY_ID = env("AWS_S3_KMS_KEY_ID", default="")


def _storages() -> dict:
    from nextsupport.storage import storages_setting

    return storages_setting(
        bucket=AWS_STORAGE_BUCKET_NAME,
        recordings_bucket=AWS_RECORDINGS_BUCKET_NAME,
        endpoint_url=AWS_S3_ENDPOINT_URL,
        region=AWS_S3_REGION_NAME,
        kms_key_id=AWS_S3_KMS_KEY_ID,
        media_root=MEDIA_ROOT,
        recordings_root=RECORDINGS_ROOT,
        url_expiry=PRIVATE_URL_EXPIRY_SECONDS,
    )


STORAGES = _storages()

# --- Personal-data encryption -------------------------------------------------
# A key ring: every key that may still be found in the database, by id, and the
# one new values are written with. Keys are 32 random bytes, base64-encoded,
# and deliberately independent of SECRET_KEY (rotating one must not touch the
# other). The blind-index key is separate again: it only ever feeds HMAC.
# Environment modules fill these in.

FIELD_ENCRYPTION_KEYS: dict[str, str] = {}
FIELD_ENCRYPTION_ACTIVE_KEY = ""
BLIND_INDEX_KEY = ""
# Keys added by blind-index rotations, oldest first (README: "Rotating the blind-index key").
BLIND_INDEX_ROTATION_KEYS: dict[str, str] = {}
# Signs the checkpoint left when the audit trail's oldest events are purged
# (nextsupport.audit.purge_expired), so a forged starting point is detected.
AUDIT_CHECKPOINT_KEY = ""


def key_ring(default: dict[str, str] | None = None, *, variable: str = "FIELD_ENCRYPTION_KEYS") -> dict[str, str]:
    """A key ring variable (FIELD_ENCRYPTION_KEYS) as `id:base64key,id:base64key` (base64 may contain '='), in order."""
    raw = env(variable, default=None)
    if raw is None:
        if default is None:
            raise environ.ImproperlyConfigured(f"Set the {variable} environment variable")
        return default
    ring = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        key_id, sep, value = item.partition(":")
        if not sep or not key_id or not value:
            raise environ.ImproperlyConfigured(f"{variable} entries must look like id:base64key")
        ring[key_id] = value
    return ring


PHONE_DEFAULT_REGION = "GB"

# --- Celery -----------------------------------------------------------------

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ACKS_LATE = True
# A task whose worker dies is redelivered instead of silently dropped; only
# idempotent tasks may rely on acks_late, which is why every task must be.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Time limits sit well below the visibility timeout: a task must be killed
# before the broker decides it was lost and hands it to a second worker.
CELERY_BROKER_VISIBILITY_TIMEOUT = 3600
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# The retention purge (compliance.retention) works in batches of at most this
# many rows, sized so that each transaction takes about RETENTION_BATCH_SECONDS:
# well inside a second, so nothing else waits on it for long.
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=1000)
RETENTION_BATCH_SECONDS = 0.2
# django-celery-beat does not support Django 6.1, so the schedule is static
# and lives here, under version control.
CELERY_BEAT_SCHEDULE = {
    "verify-audit-chain": {
        "task": "nextsupport.tasks.verify_audit_chain",
        "schedule": timedelta(hours=6),
    },
    "sweep-contact-imports": {
        "task": "consumers.tasks.sweep_imports",
        "schedule": timedelta(minutes=5),
    },
    "flush-consent-buffer": {
        "task": "cookies.tasks.flush_consent_buffer",
        "schedule": timedelta(seconds=10),
    },
    # The retention engine (compliance.retention) runs every rule of the registry;
    # it replaced the cookie-consent and enquiry purges.
    "retention-purge": {
        "task": "compliance.tasks.retention_purge",
        "schedule": timedelta(hours=24),
    },
    "retention-minors-sweep": {
        "task": "compliance.tasks.retention_minors_sweep",
        "schedule": timedelta(hours=1),
    },
    "alert-request-deadlines": {
        "task": "compliance.tasks.alert_request_deadlines",
        "schedule": timedelta(hours=24),
    },
    "expire-request-copies": {
        "task": "compliance.tasks.expire_request_copies",
        "schedule": timedelta(hours=24),
    },
    "dispatch-calls": {
        "task": "campaigns.tasks.dispatch",
        "schedule": timedelta(seconds=5),
        # A tick that could not run within its interval is pointless later: the next one comes.
        "options": {"expires": 5},
    },
    "reconcile-calls": {
        "task": "campaigns.tasks.reconcile_calls",
        "schedule": timedelta(minutes=1),
    },
    "retry-client-webhooks": {
        "task": "campaigns.tasks.retry_client_webhooks",
        "schedule": timedelta(minutes=1),
        # The next sweep finds whatever a late one would have: no point running it late.
        "options": {"expires": 60},
    },
    # Daily at 07:00 UK time, once the month's figures are final (campaigns.statements); it acts
    # once a month per organisation: after that the statement exists. A clock time, not "every
    # 24 hours", so a beat restarted every day still runs it.
    "build-usage-statements": {
        "task": "campaigns.tasks.build_usage_statements",
        "schedule": crontab(hour=7, minute=0),
    },
}

# --- Contact-list imports -----------------------------------------------------

CONTACT_IMPORT_MAX_BYTES = env.int("CONTACT_IMPORT_MAX_BYTES", default=100 * 1000 * 1000)
# Rows per transaction: each chunk commits with its checkpoint. Memory per
# chunk is a few MB; larger chunks mean fewer commits (each one an fsync).
CONTACT_IMPORT_CHUNK_ROWS = env.int("CONTACT_IMPORT_CHUNK_ROWS", default=10_000)
# Seconds one task may spend before handing over to a fresh task (well inside
# the soft time limit above, so a huge file never gets killed mid-chunk).
CONTACT_IMPORT_TIME_BUDGET = env.int("CONTACT_IMPORT_TIME_BUDGET", default=20 * 60)
CONTACT_IMPORT_MAX_ATTEMPTS = 8
# An import whose worker has not checked in for this long is handed to another.
CONTACT_IMPORT_STALL_AFTER = timedelta(minutes=10)

# --- Cache ------------------------------------------------------------------

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- REST API ---------------------------------------------------------------

REST_FRAMEWORK = {
    # An API key (integrations) or the portal's own session, once its second
    # factor is verified. The key class comes first so that a missing or bad
    # key is answered 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.APIKeyAuthentication",
        "accounts.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "nextsupport.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "NextSupport API",
    "DESCRIPTION": "Campaigns, contact lists and results for NextSupport clients.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs page describe the API, they hold no client data.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ContactListPurposeEnum": "consumers.models.ContactList.Purpose",
        "ConsentPurposeEnum": "consumers.models.ConsentRecord.Purpose",
        "CampaignPurposeEnum": "campaigns.models.Campaign.Purpose",
        "CampaignStateEnum": "campaigns.models.Campaign.State",
        "CampaignContactStateEnum": "campaigns.models.CampaignContact.State",
        "CallStatusEnum": "campaigns.models.Call.Status",
        "CallerIdStatusEnum": "campaigns.models.CallerId.Status",
        "WebhookDeliveryStateEnum": "campaigns.models.WebhookDelivery.State",
        "ImportJobStatusEnum": "consumers.models.ImportJob.Status",
    },
}

# --- Security defaults (tightened further in production) ---------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
# Proxies in front of the app whose X-Forwarded-For may be trusted for the
# client address in the audit trail and in allauth's rate limits.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# --- E-mail -----------------------------------------------------------------

DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="NextSupport <no-reply@nextsupport.co.uk>")
# The one address every link in an e-mail starts from, portal and public site alike
# (they are served together). In development it follows PORT, as `make run` does.
SITE_URL = env("SITE_URL", default=f"http://127.0.0.1:{env('PORT', default='8000')}")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
COMPLIANCE_EMAIL = "compliance@nextsupport.co.uk"
# Data-subject requests from the public form (compliance.request_views): complete requests per
# network an hour, per phone number or e-mail address a day, and codes tried per network an hour.
RIGHTS_REQUEST_LIMIT_PER_HOUR = env.int("RIGHTS_REQUEST_LIMIT_PER_HOUR", default=5)
RIGHTS_REQUEST_LIMIT_PER_IDENTIFIER = env.int("RIGHTS_REQUEST_LIMIT_PER_IDENTIFIER", default=3)
RIGHTS_VERIFY_LIMIT_PER_HOUR = env.int("RIGHTS_VERIFY_LIMIT_PER_HOUR", default=20)

# --- Campaigns and telephony -----------------------------------------------------

# "twilio" or "simulator". Empty: Twilio when its credentials are set, otherwise
# the simulator (simulated people answering; the default for `make run`).
TELEPHONY_PROVIDER = env("TELEPHONY_PROVIDER", default="")
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
# The platform's own number that sends text messages (data-subject requests' one-time codes), E.164.
TELEPHONY_SMS_FROM = env("TELEPHONY_SMS_FROM", default="")
# The public address providers post webhooks to; their signatures are checked against it.
TELEPHONY_WEBHOOK_BASE_URL = env("TELEPHONY_WEBHOOK_BASE_URL", default=SITE_URL)
# Ofcom: an unanswered call rings at least 15 s. We let it ring 25 s and never cancel a ringing dial.
TELEPHONY_RING_TIMEOUT_SECONDS = env.int("TELEPHONY_RING_TIMEOUT_SECONDS", default=25)
TELEPHONY_VOICE = env("TELEPHONY_VOICE", default="Polly.Amy")  # a British English voice
# The simulator: where it keeps its calls and recordings (it plays the phone network),
# how fast its people talk (1.0 = real time; tests use 0), and whether placing a call
# starts playing it at once (on the "simulator" queue).
TELEPHONY_SIMULATOR_DIR = env.path("TELEPHONY_SIMULATOR_DIR", default=DATA_DIR / "simulator")
TELEPHONY_SIMULATOR_PACE = env.float("TELEPHONY_SIMULATOR_PACE", default=1.0)
TELEPHONY_SIMULATOR_AUTORUN = env.bool("TELEPHONY_SIMULATOR_AUTORUN", default=True)
# The secret the simulator signs its webhooks with, like Twilio's auth token. Empty: derived from SECRET_KEY.
TELEPHONY_SIMULATOR_AUTH_TOKEN = env("TELEPHONY_SIMULATOR_AUTH_TOKEN", default="")

# Ofcom's persistent-misuse rules (campaigns.dispatcher, campaigns.gate).
CALL_FIRST_AUDIO_LIMIT_MS = 2000
ABANDONED_RATE_LIMIT = 0.03  # Ofcom's ceiling over a rolling 24 hours, per campaign
ABANDONED_RATE_SLOW_AT = 0.01  # fewer calls at once from here
ABANDONED_RATE_PAUSE_AT = 0.025  # paused before the ceiling is reached
# Share of answering-machine detections that are really people (counted as abandoned
# in the rate, since they heard a message and were hung up on): a cautious estimate
# of how often asynchronous AMD mistakes a person for a machine.
AMD_FALSE_POSITIVE_RATE = env.float("AMD_FALSE_POSITIVE_RATE", default=0.02)
# The dispatcher: contacts claimed per campaign per tick, and the default number of
# calls on the line at once per organisation when staff have set no CallingLimit.
CAMPAIGN_DISPATCH_BATCH = env.int("CAMPAIGN_DISPATCH_BATCH", default=200)
CAMPAIGN_ORGANISATION_MAX_CONCURRENT_CALLS = env.int("CAMPAIGN_ORGANISATION_MAX_CONCURRENT_CALLS", default=20)
# A call the provider never reported back on is reconciled after this long.
CALL_STALE_AFTER = timedelta(minutes=10)

# Reply generation: rule-based and offline by default; an OpenAI-compatible
# chat-completions endpoint when configured (with the rule-based reply as fallback).
CONVERSATION_LLM_URL = env("CONVERSATION_LLM_URL", default="")
CONVERSATION_LLM_MODEL = env("CONVERSATION_LLM_MODEL", default="")
CONVERSATION_LLM_API_KEY = env("CONVERSATION_LLM_API_KEY", default="")
CONVERSATION_LLM_TIMEOUT_SECONDS = env.float("CONVERSATION_LLM_TIMEOUT_SECONDS", default=1.5)

# Outbound webhooks to clients (campaigns.client_webhooks): how long one attempt may take,
# and the CA bundle their HTTPS certificates are checked against (empty: certifi's).
CLIENT_WEBHOOK_TIMEOUT_SECONDS = env.float("CLIENT_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
CLIENT_WEBHOOK_CA_FILE = env("CLIENT_WEBHOOK_CA_FILE", default="")

# --- Public website -----------------------------------------------------------

# Google Analytics 4, loaded only after consent (P08). No measurement id: no analytics at all.
# The script URL is a setting so tests point it at a local stand-in and nothing leaves the machine.
GOOGLE_ANALYTICS_MEASUREMENT_ID = env("GOOGLE_ANALYTICS_MEASUREMENT_ID", default="")
GOOGLE_ANALYTICS_SCRIPT_URL = env("GOOGLE_ANALYTICS_SCRIPT_URL", default="https://www.googletagmanager.com/gtag/js")
# A strict policy on every page (nextsupport.headers); the API docs page has its own.
SECURE_CSP = content_security_policy(analytics_script_url=GOOGLE_ANALYTICS_SCRIPT_URL if GOOGLE_ANALYTICS_MEASUREMENT_ID else "")
# Consent records are queued in this Redis and written to PostgreSQL in batches
# (cookies.buffer); empty: each record is inserted directly.
COOKIE_CONSENT_BUFFER_URL = env("COOKIE_CONSENT_BUFFER_URL", default=REDIS_URL)
# Web processes append each record to a spool file before answering and hand the
# spool to Redis in batches from a background thread; off: one RPUSH per request.
COOKIE_CONSENT_WRITE_BEHIND = env.bool("COOKIE_CONSENT_WRITE_BEHIND", default=True)
# Where the spool files live: a local directory that outlives a web process (not a
# tmpfs shared by nothing); whichever process finds a dead process's file ships it.
COOKIE_CONSENT_SPOOL_DIR = env.path("COOKIE_CONSENT_SPOOL_DIR", default=DATA_DIR / "consent-spool")
# Consent endpoint: at most this many recorded choices per network (the /24 or /48) per
# hour. Generous, as every first visit posts one and offices share a network; it
# bounds the rows one network can add to the 12-month log.
COOKIE_CONSENT_LIMIT_PER_HOUR = env.int("COOKIE_CONSENT_LIMIT_PER_HOUR", default=1000)
# Contact form: at most this many submissions per network (the /24 or /48 of the address) per hour.
CONTACT_FORM_LIMIT_PER_HOUR = env.int("CONTACT_FORM_LIMIT_PER_HOUR", default=5)

# /healthz answers from one probe of the database, broker and storage for this
# many seconds (per process), so hits on the public URL cannot hammer them.
HEALTHZ_CACHE_SECONDS = env.int("HEALTHZ_CACHE_SECONDS", default=5)

# --- Logging ----------------------------------------------------------------

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
URLIZE_ASSUME_HTTPS = True  # Django 6.1 transitional setting: links default to https

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Breach register and records of processing (compliance.breaches, compliance.records) ------

# Who the ICO's breach report names as the organisation and its data-protection contact.
BREACH_REPORT_ORGANISATION = env("BREACH_REPORT_ORGANISATION", default="NextSupport Ltd")
ICO_REGISTRATION_NUMBER = env("ICO_REGISTRATION_NUMBER", default="")
DATA_PROTECTION_CONTACT = env("DATA_PROTECTION_CONTACT", default="The Compliance Team, compliance@nextsupport.co.uk")
CELERY_BEAT_SCHEDULE["alert-overdue-breach-steps"] = {
    "task": "compliance.tasks.alert_overdue_breach_steps",
    # Often: an overdue 24-hour step should be news within minutes, not hours.
    "schedule": timedelta(minutes=15),
}
