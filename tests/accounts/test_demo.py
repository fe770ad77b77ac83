"""`make run` demo data: signed in at once, with the second factor, and safe to load twice."""

import re

from django.core.management import call_command
from django.test import Client

from accounts.models import BackupCodeDevice, Organisation
from accounts.selectors import organisation_may_launch_calls
from consumers.models import ContactList
from consumers.selectors import missing_registers, screening_is_current
from nextsupport import demo
from tests.consumers.conftest import make_list, run_import


def test_demo_people_sign_in_with_a_printed_backup_code_and_reloading_replaces_the_codes(settings, db, capsys):
    settings.DEBUG = True

    call_command("load_demo_data")
    first = capsys.readouterr().out
    call_command("load_demo_data")
    second = capsys.readouterr().out

    acme = Organisation.objects.get(legal_name="Acme Energy Ltd")
    assert organisation_may_launch_calls(acme)
    assert Organisation.objects.filter(legal_name="Acme Energy Ltd").count() == 1
    assert BackupCodeDevice.objects.count() == 4
    old_code = re.search(r"backup codes:\s+(\S+)", first).group(1)
    new_code = re.search(r"backup codes:\s+(\S+)", second).group(1)
    assert re.search(r"authenticator secret: [A-Z2-7]{32}", second)

    client = Client()
    client.post("/accounts/login/", {"login": "owner@acme.example", "password": "demo-password-2026"})
    refused = client.post("/accounts/2fa/verify/", {"code": old_code})
    BackupCodeDevice.objects.update(throttling_failure_timestamp=None, throttling_failure_count=0)
    accepted = client.post("/accounts/2fa/verify/", {"code": new_code})

    assert refused.status_code == 200
    assert accepted.status_code == 302
    assert client.get(f"/app/o/{acme.pk}/").status_code == 200


def test_the_demo_compliance_officer_opens_the_admin_with_a_backup_code(settings, db, capsys):
    settings.DEBUG = True
    call_command("load_demo_data")
    out = capsys.readouterr().out
    code = re.search(r"compliance@nextsupport\.example.*?backup codes:\s+(\S+)", out, re.S).group(1)

    client = Client()
    client.post("/accounts/login/", {"login": "compliance@nextsupport.example", "password": "demo-password-2026"})
    client.post("/accounts/2fa/verify/", {"code": code})

    assert client.get("/admin/accounts/organisation/").status_code == 200


def test_the_demo_loads_tps_and_ctps_registers_so_its_marketing_file_imports_and_screens(settings, db, capsys):
    # Given the demo data, loaded twice
    settings.DEBUG = True
    call_command("load_demo_data")
    call_command("load_demo_data")
    owner = Organisation.objects.get(legal_name="Acme Energy Ltd").memberships.get(role="owner").user

    # When its sample file is imported into a new marketing list
    offers = make_list(owner.organisations.get(), owner, purpose=ContactList.Purpose.MARKETING, name="Spring offers")
    job = run_import(offers, owner, (demo.DEMO_DATA / "spring-offers.csv").read_bytes())

    # Then both registers are there, the TPS and CTPS numbers are left out, and the list is screened
    assert missing_registers() == []
    assert (job.created, job.screened_out, job.warnings, job.rejected) == (2, 2, 1, 1)
    offers.refresh_from_db()
    assert screening_is_current(offers)
