"""No browser or proxy keeps a copy of personal data (P24): every portal page, API answer
and export sends `Cache-Control: no-store`. The walk covers every route of the URL resolver
(tests/accounts/isolation.py), as the organisation's own owner and with its own API key,
so a route added later is checked too."""

import pytest
from django.test import Client

from consumers.models import ImportJob
from tests.accounts import isolation
from tests.accounts.test_isolation import victim  # noqa: F401  (the fixture: an organisation with data of every kind)
from tests.conftest import login
from tests.factories import APIKeyFactory


@pytest.mark.obligation("P24")
def test_every_response_that_shows_the_organisations_data_is_not_stored(victim, owner):  # noqa: F811
    # Given the organisation's owner, signed in, and its own API key
    organisation = victim.organisation
    # The factory's upload has no file: as a finished import it has none either, and its pages open.
    ImportJob.objects.filter(organisation=organisation, file="").update(status=ImportJob.Status.COMPLETED)
    key = APIKeyFactory(organisation=organisation, scope="read_write")
    browser, integration = login(Client(), owner), Client(HTTP_AUTHORIZATION=f"Api-Key {key.raw_key}")
    stored, answered = [], 0

    # When every route is read with the organisation's own ids
    for route in isolation.client_routes():
        for url, _, _ in isolation.urls_for(route, victim, organisation.pk, limit=60):
            for client in (browser, integration) if route.startswith("api/") else (browser,):
                response = client.get(url)
                if response.status_code != 200:
                    continue
                answered += 1
                # Then each answer is marked not to be kept, by the browser or anything on the way
                if "no-store" not in response.get("Cache-Control", ""):
                    stored.append(url)

    assert answered > 40  # the walk reached the pages that show data, not just refusals
    assert stored == [], "Responses a browser or proxy may keep:\n" + "\n".join(stored)
