"""CI's property-based check of the API against its own OpenAPI schema (schemathesis).

    python scripts/api_check.py            # needs DATABASE_URL: a database of its own, it is migrated

A real server (runserver, the test settings: tasks run in-process) on a real
PostgreSQL database, an organisation with a list, an import and consumers, and a
real read-write API key. schemathesis then sends every operation generated
requests, valid and not, with the organisation's and those objects' ids in the
path, and fails on any 500 and on any answer that breaks the schema it claims.
Bounded: a fixed number of examples per operation and a time limit on the whole run.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = os.environ.get("API_CHECK_PORT", "8765")
EXAMPLES = os.environ.get("API_CHECK_EXAMPLES", "30")
TIME_LIMIT = 10 * 60
SETTINGS = "nextsupport.settings.test"

FIXTURE = """
import json
from django.core.files.uploadedfile import SimpleUploadedFile
from accounts import services as accounts
from accounts.models import APIKey, Membership, Role, User
from consumers import services as consumers
from tests.factories import OrganisationFactory

owner = User.objects.create_user("api-check-owner@example.org", None, full_name="API Check")
organisation = OrganisationFactory(legal_name="API check client")
Membership.objects.create(user=owner, organisation=organisation, role=Role.OWNER)
key, raw = accounts.api_key_create(
    organisation=organisation, name="schemathesis", scope=APIKey.Scope.READ_WRITE, expires_at=None, created_by=owner, request=None
)
contact_list = consumers.contact_list_create(organisation=organisation, name="Customers", purpose="service", created_by=owner)
data = b"Name,Phone,Email\\r\\nAda Lovelace,07911 123456,ada@example.org\\r\\nBob,020 7946 0001,\\r\\nBad,12345,\\r\\n"
job = consumers.import_job_create(contact_list=contact_list, upload=SimpleUploadedFile("c.csv", data), uploaded_by=owner)
consumers.import_job_start(
    job=job,
    mapping={"0": "name", "1": "phone", "2": "email"},
    attestation={"basis": "contract", "wording": "Our customers gave us their numbers with their contract."},
    by=owner,
)
consumer = contact_list.memberships.first().consumer
print(json.dumps({"key": raw, "org": organisation.pk, "list": contact_list.pk, "job": job.pk, "consumer": consumer.pk}))
"""

# These delete the objects every other operation is pointed at: they run last, on their own.
DESTRUCTIVE = (
    r"^(DELETE /api/v1/orgs/\{org_id\}/lists/\{list_id\}/|POST /api/v1/orgs/\{org_id\}/consumers/\{consumer_id\}/under-16/)$"
)

CONFIG = """
[parameters]
"path.org_id" = "${API_CHECK_ORG}"
"path.list_id" = "${API_CHECK_LIST}"
"path.job_id" = "${API_CHECK_JOB}"
"path.consumer_id" = "${API_CHECK_CONSUMER}"
"""


def _django(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS}
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, check=True, **kwargs)


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own server on the loopback)
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"The API server did not answer at {url}.")


def main() -> int:
    if not os.environ.get("DATABASE_URL"):
        print("api_check needs DATABASE_URL (a database of its own).", file=sys.stderr)
        return 2
    _django("migrate", "--no-input", "-v", "0")
    made = json.loads(_django("shell", "-c", FIXTURE, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS}
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "runserver", f"127.0.0.1:{PORT}", "--noreload"], cwd=ROOT, env=env
    )
    config = ROOT / ".data" / "schemathesis.toml"
    config.parent.mkdir(exist_ok=True)
    config.write_text(CONFIG)
    try:
        _wait_for(f"http://127.0.0.1:{PORT}/api/schema/")
        check_env = {
            **os.environ,
            "API_CHECK_ORG": str(made["org"]),
            "API_CHECK_LIST": str(made["list"]),
            "API_CHECK_JOB": str(made["job"]),
            "API_CHECK_CONSUMER": str(made["consumer"]),
        }
        command = [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(config),
            "run",
            f"http://127.0.0.1:{PORT}/api/schema/?format=json",
            "--url",
            f"http://127.0.0.1:{PORT}",
            "--header",
            f"Authorization: Api-Key {made['key']}",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--max-examples",
            EXAMPLES,
            "--seed",
            os.environ.get("API_CHECK_SEED", "20261201"),
            "--generation-database",
            "none",
            "--no-color",
        ]
        first = subprocess.run([*command, "--exclude-name-regex", DESTRUCTIVE], cwd=ROOT, env=check_env, timeout=TIME_LIMIT)
        last = subprocess.run([*command, "--include-name-regex", DESTRUCTIVE], cwd=ROOT, env=check_env, timeout=TIME_LIMIT)
        return first.returncode or last.returncode
    finally:
        server.terminate()
        server.wait(15)


if __name__ == "__main__":
    sys.exit(main())
