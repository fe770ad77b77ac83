"""`manage.py notify_clients`: how staff send service updates and statements to clients (P12)."""

import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from accounts.models import Notice, Organisation, Role
from tests.factories import MembershipFactory, OrganisationFactory


@pytest.fixture
def message(tmp_path):
    path = tmp_path / "maintenance.txt"
    path.write_text("The portal is down for maintenance on Sunday from 02:00 to 03:00 UK time.\n", encoding="utf-8")
    return path


def notify(*args, capture):
    with capture(execute=True):
        call_command("notify_clients", *args)


@pytest.mark.obligation("P12")
def test_a_service_update_reaches_every_open_client_once(message, owner, teammate, outsider, django_capture_on_commit_callbacks):
    closed = OrganisationFactory(status=Organisation.Status.CLOSED)
    MembershipFactory(organisation=closed, role=Role.OWNER, user__email="gone@closed.example")
    teammate.memberships.update(notify_service_updates=False)
    args = ["--topic", "service_updates", "--subject", "Planned maintenance", "--body-file", str(message)]

    notify(*args, capture=django_capture_on_commit_callbacks)
    notify(*args, capture=django_capture_on_commit_callbacks)  # a re-run after a crash sends nothing twice

    assert sorted(m.to[0] for m in mail.outbox) == ["owner@acme.example", "owner@rival.example"]
    assert mail.outbox[0].subject == "NextSupport: Planned maintenance"
    assert "Sunday from 02:00 to 03:00" in mail.outbox[0].body


def test_one_organisation_can_be_named(message, organisation, owner, outsider, django_capture_on_commit_callbacks):
    notify(
        "--topic", "security", "--subject", "Reset your keys", "--body-file", str(message),
        "--organisation", str(organisation.pk),
        capture=django_capture_on_commit_callbacks,
    )  # fmt: skip

    assert [m.to[0] for m in mail.outbox] == ["owner@acme.example"]


@pytest.mark.parametrize(
    ("content", "subject", "error"),
    [
        (b"", "Maintenance", "is empty: there is no message to send"),
        (b"  \n\n", "Maintenance", "is empty: there is no message to send"),
        (b"Caf\xe9 closed", "Maintenance", "is not UTF-8 text (byte 3 cannot be read)"),
        (b"Sunday.", "   ", "--subject is empty"),
        (b"Sunday.", "x" * 151, "--subject is 151 characters long; at most 150"),
    ],
)
def test_a_bad_message_is_refused_and_nothing_is_queued(tmp_path, owner, content, subject, error):
    path = tmp_path / "message.txt"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=re.escape(error)):
        call_command("notify_clients", "--topic", "service_updates", "--subject", subject, "--body-file", str(path))

    assert not Notice.objects.exists() and mail.outbox == []


def test_a_missing_file_or_unknown_organisation_is_named(message, tmp_path, organisation, owner):
    with pytest.raises(CommandError, match=r"Cannot read .*absent\.txt: No such file or directory"):
        call_command(
            "notify_clients", "--topic", "service_updates", "--subject", "S", "--body-file", str(tmp_path / "absent.txt")
        )
    with pytest.raises(CommandError, match="No open organisation has the id 2000000000; nothing was sent"):
        call_command(
            "notify_clients", "--topic", "service_updates", "--subject", "S", "--body-file", str(message),
            "--organisation", str(organisation.pk), "--organisation", "2000000000",
        )  # fmt: skip

    assert not Notice.objects.exists() and mail.outbox == []
