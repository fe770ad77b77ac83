"""A visitor's choice that was answered 201 is kept even when the web worker is killed right
after answering (P14, P18): the record is on disk before the answer, not in process memory.
The server is a real gunicorn with production settings, as `make bench` runs it."""

import json
import os
import signal
from http.client import HTTPConnection

import psutil
import pytest

from bench.bench_consent_log import HEADERS, Gunicorn
from cookies.selectors import banner_version
from tests.website.conftest import consent_log, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
CHOICES = 40


@pytest.mark.obligation("P14", "P18")
def test_choices_answered_before_the_worker_is_killed_are_all_recorded(site_content, redis_buffer, settings, tmp_path):
    # Given a gunicorn with one worker, spooling consent records as in production
    settings.COOKIE_CONSENT_WRITE_BEHIND = True
    settings.COOKIE_CONSENT_SPOOL_DIR = tmp_path
    server = Gunicorn(settings.COOKIE_CONSENT_BUFFER_URL, workers=1, spool_dir=str(tmp_path))
    try:
        server.wait_ready()
        worker = psutil.Process(server.process.pid).children()[0]
        body = json.dumps(
            {
                "consent_id": None,
                "categories": ["analytics"],
                "policy_version": 1,
                "banner_version": banner_version(),
                "gpc": False,
            }
        )
        connection = HTTPConnection("127.0.0.1", server.port, timeout=10)
        answered = []

        # When visitors' choices are answered one after another, and the worker is killed straight after the last answer
        for _ in range(CHOICES):
            connection.request("POST", "/cookies/consent", body=body, headers=HEADERS)
            response = connection.getresponse()
            assert response.status == 201, response.read()
            answered.append(json.loads(response.read())["consent_id"])
        os.kill(worker.pid, signal.SIGKILL)
        assert wait_for(lambda: not worker.is_running() or worker.status() == psutil.STATUS_ZOMBIE)
    finally:
        server.stop()

    # Then every answered choice is in the log, once
    recorded = [str(r.consent_id) for r in consent_log()]
    assert sorted(recorded) == sorted(answered)
