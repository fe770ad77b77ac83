"""A deployed environment. Every secret is required; nothing insecure has a default."""

from nextsupport.headers import content_security_policy

from .base import *  # noqa: F403
from .base import GOOGLE_ANALYTICS_MEASUREMENT_ID, GOOGLE_ANALYTICS_SCRIPT_URL, database, env, key_ring

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[f"https://{host}" for host in ALLOWED_HOSTS])

SITE_URL = env("SITE_URL", default=f"https://{ALLOWED_HOSTS[0]}")

# Real calls go through Twilio; `check --deploy` refuses the simulator and a Twilio without credentials.
TELEPHONY_PROVIDER = env("TELEPHONY_PROVIDER", default="twilio")
TELEPHONY_WEBHOOK_BASE_URL = env("TELEPHONY_WEBHOOK_BASE_URL", default=SITE_URL)

DATABASES = {"default": database()}
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
REDIS_URL = env("REDIS_URL")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

FIELD_ENCRYPTION_KEYS = key_ring()
FIELD_ENCRYPTION_ACTIVE_KEY = env("FIELD_ENCRYPTION_ACTIVE_KEY")
BLIND_INDEX_KEY = env("BLIND_INDEX_KEY")
BLIND_INDEX_ROTATION_KEYS = key_ring({}, variable="BLIND_INDEX_ROTATION_KEYS")
AUDIT_CHECKPOINT_KEY = env("AUDIT_CHECKPOINT_KEY")

# --- HTTPS only (P24: encryption in transit) -----------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# /healthz is probed over plain HTTP by load balancers inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CSP = content_security_policy(
    analytics_script_url=GOOGLE_ANALYTICS_SCRIPT_URL if GOOGLE_ANALYTICS_MEASUREMENT_ID else "", https_only=True
)

MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": env("EMAIL_HOST"),
            "port": env.int("EMAIL_PORT", default=587),
            "username": env("EMAIL_HOST_USER", default=""),
            "password": env("EMAIL_HOST_PASSWORD", default=""),
            "use_tls": env.bool("EMAIL_USE_TLS", default=True),
            "timeout": 20,
        },
    }
}
