"""Data-subject request tests: a committing test client, and reading the codes we sent, as the requester would.

The fixtures are in conftest.py."""

import re

from django.test import Client, TestCase

from campaigns.telephony import simulator

CODE = re.compile(r"\b(\d{6})\b")
LINK = re.compile(r"(/your-rights/verify/[0-9a-f]+/)")


class CommittingClient(Client):
    """A test client whose requests run their on-commit work (e-mails, tasks) as a real commit would."""

    def request(self, **request):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


def committing(work, *args, **kwargs):
    """Call a service as if in its own transaction: its on-commit tasks run."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return work(*args, **kwargs)


def emailed_code(mailoutbox, to: str) -> str:
    [message] = [m for m in mailoutbox if to in m.to and "Confirm" in m.subject][-1:]
    return CODE.findall(message.body)[-1]  # after the reference (DSR-2026-000123) in the text


def emailed_link(mailoutbox, to: str) -> str:
    [message] = [m for m in mailoutbox if to in m.to and "Confirm" in m.subject][-1:]
    return LINK.search(message.body).group(1)


def texted_code(phone: str) -> str:
    return CODE.findall(simulator.sent_messages(phone)[-1]["body"])[-1]


def submit(client, **fields):
    data = {"kind": "access", "phone": "", "email": "", "name": "", "details": "", "website": "", **fields}
    return client.post("/your-rights/", data)
