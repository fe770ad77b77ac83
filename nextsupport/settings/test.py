"""The test suite: `make test`, `.ci/run`.

DATABASE_URL and REDIS_URL point the tests at real servers (CI does so);
without them `make test` starts the embedded PostgreSQL and passes its URL.
"""

import base64
import tempfile
from pathlib import Path

from nextsupport.storage import storages_setting

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, database, env
from .dev import filesystem_broker_options

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-any-deployed-environment-0123456789"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
DATABASES = {"default": database()}
DATABASES["default"]["CONN_MAX_AGE"] = 0

# Fixed keys so failures reproduce; two of them so rotation can be tested.
FIELD_ENCRYPTION_KEYS = {
    "test-old": base64.b64encode(b"o" * 32).decode(),
    "test-1": base64.b64encode(b"k" * 32).decode(),
}
FIELD_ENCRYPTION_ACTIVE_KEY = "test-1"
BLIND_INDEX_KEY = base64.b64encode(b"b" * 32).decode()
AUDIT_CHECKPOINT_KEY = base64.b64encode(b"a" * 32).decode()

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; never outside tests
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Local folders in a scratch directory, whatever the environment says; the S3
# tests build their own S3 storages against a local moto server.
_scratch = Path(tempfile.mkdtemp(prefix="nextsupport-test-"))
MEDIA_ROOT = _scratch / "media"
RECORDINGS_ROOT = _scratch / "recordings"
STORAGES = storages_setting(
    bucket="",
    recordings_bucket="",
    endpoint_url=None,
    region="eu-west-2",
    kms_key_id="",
    media_root=MEDIA_ROOT,
    recordings_root=RECORDINGS_ROOT,
    url_expiry=300,
)
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# Static files are served from the app folders (no collectstatic before tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = _scratch / "static"
COOKIE_CONSENT_SPOOL_DIR = _scratch / "consent-spool"
# Consent records go to Redis within the request: the spool's thread writes with a
# database connection of its own, outside a test's transaction. Tests of the spool
# turn it on (tests/website/test_consent_buffer.py, test_consent_durability.py).
COOKIE_CONSENT_WRITE_BEHIND = False

# Tasks run in-process unless a test asks for a real broker.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(_scratch / "broker")

# Models that exist only to exercise the platform primitives.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]

# Calls go to the simulator, which tests play step by step (no pauses, no background queue);
# its webhooks are signed for, and checked against, the test client's address.
TELEPHONY_PROVIDER = "simulator"
TELEPHONY_SIMULATOR_DIR = env.path("TELEPHONY_SIMULATOR_DIR", default=_scratch / "simulator")
TELEPHONY_SIMULATOR_PACE = 0.0
TELEPHONY_SIMULATOR_AUTORUN = False
TELEPHONY_WEBHOOK_BASE_URL = "http://testserver"
TWILIO_ACCOUNT_SID = ""
TWILIO_AUTH_TOKEN = ""
CONVERSATION_LLM_URL = ""
