"""A developer machine: `make run`. Works with nothing configured."""

from .base import *  # noqa: F403
from .base import DATA_DIR, database, env, key_ring
from .dev import ensure_key, filesystem_broker_options, load_or_create

DEBUG = env.bool("DJANGO_DEBUG", default=True)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

_dev = load_or_create(DATA_DIR / "dev-secrets.json")
SECRET_KEY = env("DJANGO_SECRET_KEY", default=_dev["DJANGO_SECRET_KEY"])
FIELD_ENCRYPTION_KEYS = key_ring(default=_dev["FIELD_ENCRYPTION_KEYS"])
FIELD_ENCRYPTION_ACTIVE_KEY = env("FIELD_ENCRYPTION_ACTIVE_KEY", default=_dev["FIELD_ENCRYPTION_ACTIVE_KEY"])
BLIND_INDEX_KEY = env("BLIND_INDEX_KEY", default=_dev["BLIND_INDEX_KEY"])
BLIND_INDEX_ROTATION_KEYS = key_ring({}, variable="BLIND_INDEX_ROTATION_KEYS")
# Dev secrets written before the key existed lack it: one is made for them.
AUDIT_CHECKPOINT_KEY = env(
    "AUDIT_CHECKPOINT_KEY",
    default=_dev.get("AUDIT_CHECKPOINT_KEY") or ensure_key(DATA_DIR / "dev-secrets.json", "AUDIT_CHECKPOINT_KEY"),
)

# The embedded PostgreSQL that `make run` starts listens on a socket in its
# data directory; nextsupport.devstack passes the exact URL it started.
DATABASES = {"default": database(default=f"postgresql://postgres@/nextsupport?host={DATA_DIR / 'pg'}")}

# Kombu's filesystem transport: a broker that needs no server.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(DATA_DIR / "broker")

# E-mails (verification links, invitations) are printed on the console.
MAILERS = {"default": {"BACKEND": env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")}}

# The simulated phone network posts its webhooks to the web server `make run` starts.
TELEPHONY_WEBHOOK_BASE_URL = env("TELEPHONY_WEBHOOK_BASE_URL", default=f"http://127.0.0.1:{env('PORT', default='8000')}")
# Simulated people talk at twice real speed on a developer machine, so a demo campaign shows its
# outcomes in a minute or two.
TELEPHONY_SIMULATOR_PACE = env.float("TELEPHONY_SIMULATOR_PACE", default=0.5)
