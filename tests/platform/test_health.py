import pytest

from nextsupport import health
from nextsupport.celery import app as celery_app


@pytest.fixture(autouse=True)
def probe_every_hit(settings):
    """Each test here changes what is up or down, so none may see an earlier test's result."""
    settings.HEALTHZ_CACHE_SECONDS = 0
    health._recent.taken_at = float("-inf")


@pytest.fixture
def broker_url(monkeypatch):
    original = celery_app.conf.broker_url

    def point_at(url):
        # Celery reads CELERY_BROKER_URL from the environment before its config.
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        celery_app.conf.broker_url = url

    yield point_at
    celery_app.conf.broker_url = original


def test_healthz_is_green_when_everything_is_up(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "broker": True,
        "storage": True,
        "blind_index_keys": True,
    }


def test_healthz_checks_a_real_redis_broker_when_one_is_configured(client, db, broker_url):
    import os

    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("REDIS_URL is not set (CI sets it)")
    broker_url(redis_url)

    assert client.get("/healthz").json()["checks"]["broker"]["ok"] is True


def test_healthz_goes_red_when_the_broker_is_unreachable(client, db, broker_url):
    broker_url("redis://127.0.0.1:1/0")

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_healthz_goes_red_when_storage_fails(client, db, settings, tmp_path):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the media folder should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": blocked}},
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["ok"] is False


def test_a_flood_of_healthz_hits_costs_one_probe_per_interval(client, db, settings, monkeypatch):
    settings.HEALTHZ_CACHE_SECONDS = 60
    storage_probes = []
    probe = health.PROBES["storage"]
    monkeypatch.setitem(health.PROBES, "storage", lambda: storage_probes.append(probe()))

    first = client.get("/healthz")
    second = client.get("/healthz")

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert len(storage_probes) == 1  # one write, read and delete in storage, not one per hit
