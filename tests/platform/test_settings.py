"""Production refuses to start without its secrets; secrets may come from files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from nextsupport.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "x" * 60,
    "DJANGO_ALLOWED_HOSTS": "app.nextsupport.co.uk",
    "DATABASE_URL": "postgresql://u:p@db.internal/nextsupport",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "REDIS_URL": "redis://redis.internal:6379/1",
    "FIELD_ENCRYPTION_KEYS": "2026-11:" + "a" * 43 + "=",
    "FIELD_ENCRYPTION_ACTIVE_KEY": "2026-11",
    "BLIND_INDEX_KEY": "b" * 43 + "=",
    "AUDIT_CHECKPOINT_KEY": "c" * 43 + "=",
    "EMAIL_HOST": "smtp.internal",
}


def load_production_settings(env, show="settings.SECRET_KEY[:6]"):
    code = f"import django, json; from django.conf import settings; django.setup(); print({show})"
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and not k.endswith("_FILE")}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "nextsupport.settings.production"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_starts_with_every_secret_given():
    result = load_production_settings(PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "xxxxxx"


def test_production_refuses_to_start_without_each_secret():
    for missing in [
        "DJANGO_SECRET_KEY",
        "FIELD_ENCRYPTION_KEYS",
        "BLIND_INDEX_KEY",
        "AUDIT_CHECKPOINT_KEY",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
    ]:
        env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
        result = load_production_settings(env)
        assert result.returncode != 0, f"started without {missing}"
        assert missing in result.stderr


@pytest.mark.obligation("P24")
def test_production_is_served_over_https_only_with_secure_cookies():
    names = ["SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS"]
    result = load_production_settings(PRODUCTION_ENV, show=f"json.dumps({{n: getattr(settings, n) for n in {names}}})")

    assert result.returncode == 0, result.stderr
    production = json.loads(result.stdout)
    assert production["SECURE_SSL_REDIRECT"] and production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["SECURE_HSTS_SECONDS"] >= 365 * 24 * 60 * 60


def test_a_secret_can_come_from_a_file(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("f" * 60)
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}

    result = load_production_settings({**env, "DJANGO_SECRET_KEY_FILE": str(secret_file)})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ffffff"


def test_celery_is_wired_for_safe_redelivery():
    celery_app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    conf = celery_app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit < conf.task_time_limit < settings.CELERY_BROKER_VISIBILITY_TIMEOUT
    assert "nextsupport.tasks.verify_audit_chain" in celery_app.tasks
    assert celery_app.conf.beat_schedule["verify-audit-chain"]["task"] in celery_app.tasks


def test_in_development_e_mailed_links_follow_the_port_the_platform_runs_on():
    # Given `PORT=8011 make run` (its processes start with PORT in their environment and no SITE_URL)
    clean = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "PORT")}

    # When the development settings load
    loaded = subprocess.run(
        [sys.executable, "-c", "import django; from django.conf import settings; django.setup(); print(settings.SITE_URL)"],
        env={**clean, "PORT": "8011", "DJANGO_SETTINGS_MODULE": "nextsupport.settings.local"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    # Then the one base address of e-mailed links is that port's
    assert loaded.stdout.strip() == "http://127.0.0.1:8011", loaded.stderr
