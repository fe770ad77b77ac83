"""Production settings for the gunicorn that bench_consent_log.py starts, plus one
extra URL: the minimal view the consent endpoint is measured against."""

from nextsupport.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.server_urls"
