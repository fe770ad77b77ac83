"""Versioned policy documents (P53): published text is fixed, significant changes are
announced on the site and e-mailed to clients, and every footer link leads somewhere."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Organisation, Role
from nextsupport import services
from nextsupport.models import AuditEvent, PolicyDocument
from tests.conftest import login
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

FOOTER_LINKS = [
    "/privacy-policy/",
    "/cookie-policy/",
    "/cookie-policy/#cookie-settings",
    "/terms/",
    "/accessibility/",
    "/sub-processors/",
    "/contact/",
    "/your-rights/",
    "/stop-calls/",
]


def draft_of(kind: str, **changes) -> PolicyDocument:
    draft = services.policy_document_draft_from(document=PolicyDocument.objects.filter(kind=kind).latest("version"))
    for name, value in changes.items():
        setattr(draft, name, value)
    draft.save()
    return draft


@pytest.mark.obligation("P51", "P54")
@pytest.mark.parametrize(
    "path",
    ["/", "/privacy-policy/", "/cookie-policy/", "/terms/", "/accessibility/", "/sub-processors/", "/contact/", "/your-rights/"],
)
def test_every_public_page_links_the_legal_pages_and_the_consumer_routes_in_its_footer(client, db, path):
    html = client.get(path).content.decode()
    footer = html[html.index('<footer class="site-footer">') : html.index("</footer>")]

    for href in FOOTER_LINKS:
        assert f'href="{href}"' in footer
    assert 'data-consent-action="manage"' in footer
    assert "compliance@nextsupport.co.uk" in footer and "ico.org.uk" in footer


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/accessibility/", "<h2>How we test</h2>"),
        ("/sub-processors/version-1/", "<h2>Current sub-processors</h2>"),  # version 2 lists the live register
        ("/cookie-policy/", "<h2>How we keep proof of your choice</h2>"),
    ],
)
def test_the_seeded_documents_are_published_as_version_one(client, db, path, heading):
    html = client.get(path).content.decode()

    assert heading in html
    assert "Version 1, in force from 28 November 2026" in html


@pytest.mark.obligation("P08", "P18")
def test_the_cookie_policy_lists_the_register_as_it_is_now(client, db):
    from cookies.models import RegisterEntry

    RegisterEntry.objects.create(
        name="ns_lang", category="functional", provider="NextSupport", purpose="Remembers your language.", duration="6 months"
    )

    html = client.get("/cookie-policy/").content.decode()

    for name in ("ns_consent", "csrftoken", "_ga", "_ga_*", "gtag.js", "ns_lang"):
        assert f"<code>{name}</code>" in html
    assert "Functional (only with your consent)" in html
    assert "Strictly necessary (always on)" in html


def test_terms_not_yet_published_show_a_clear_message_instead_of_an_error(client, db):
    # The accounts migrations publish Terms v1; take them back to a draft for this case.
    PolicyDocument.objects.filter(kind=PolicyDocument.Kind.TERMS).update(status=PolicyDocument.Status.DRAFT)

    response = client.get("/terms/")

    assert response.status_code == 200
    assert "No version of our Terms of Service has been published yet." in response.content.decode()


def test_published_terms_are_shown(client, db):
    terms = services.policy_document_draft(
        kind="terms",
        title="Terms of Service",
        body="Our terms\nYou may use the service lawfully.",
        effective_date=timezone.localdate(),
    )
    services.policy_document_publish(document=terms)

    html = client.get("/terms/").content.decode()

    assert "<h2>Our terms</h2>" in html and "<p>You may use the service lawfully.</p>" in html


@pytest.mark.obligation("P53")
def test_a_published_version_cannot_be_edited_only_superseded(db):
    privacy = PolicyDocument.objects.get(kind="privacy")

    privacy.body = "Something else entirely."
    with pytest.raises(PermissionError, match="draft a new version"):
        privacy.save()
    with pytest.raises(ValidationError, match="already published"):
        services.policy_document_publish(document=privacy)

    draft = draft_of("privacy", body="A new text.")
    assert (draft.version, draft.status) == (2, PolicyDocument.Status.DRAFT)


@pytest.mark.obligation("P53")
def test_earlier_versions_stay_readable_after_a_new_one_takes_effect(client, db):
    services.policy_document_publish(document=draft_of("privacy", body="Version two of the policy."))

    current = client.get("/privacy-policy/").content.decode()
    archived = client.get("/privacy-policy/version-1/").content.decode()

    assert "Version two of the policy." in current
    assert 'href="/privacy-policy/version-1/"' in current
    assert "This is an earlier version, kept for reference." in archived
    assert client.get("/privacy-policy/version-9/").status_code == 404


def test_a_future_version_takes_effect_on_its_date(client, db):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    services.policy_document_publish(document=draft_of("privacy", body="Tomorrow's text.", effective_date=tomorrow))

    assert "Tomorrow's text." not in client.get("/privacy-policy/").content.decode()


@pytest.mark.obligation("P53")
def test_a_significant_change_is_announced_on_the_site_and_emailed_to_active_clients_once(
    client, db, owner, teammate, outsider, django_capture_on_commit_callbacks
):
    closed = OrganisationFactory(status=Organisation.Status.CLOSED)
    MembershipFactory(organisation=closed, role=Role.OWNER, user__email="gone@closed.example")
    MembershipFactory(organisation=owner.organisations.get(), user=UserFactory(email="left@acme.example", is_active=False))
    UserFactory(email="staff@nextsupport.example", is_staff=True)
    teammate.memberships.update(notify_service_updates=False)  # a legal notice is not a service update: still sent
    draft = draft_of("privacy", significant_change=True, summary_of_changes="We now keep call recordings for 3 months.")

    with django_capture_on_commit_callbacks(execute=True):
        services.policy_document_publish(document=draft)

    assert sorted(m.to[0] for m in mail.outbox) == ["owner@acme.example", "owner@rival.example", "viewer@acme.example"]
    assert "We now keep call recordings for 3 months." in mail.outbox[0].body
    assert f"{settings.SITE_URL}/privacy-policy/" in mail.outbox[0].body
    html = client.get("/").content.decode()
    assert "We have updated our privacy policy" in html and "We now keep call recordings for 3 months." in html
    assert AuditEvent.objects.filter(action="policy.published", target_id=str(draft.pk)).exists()

    from accounts.tasks import notify_clients_of_policy_change

    assert notify_clients_of_policy_change.delay(draft.pk).get() == 0  # a redelivered task sends nothing
    assert len(mail.outbox) == 3


def test_a_minor_change_is_neither_announced_nor_emailed(client, db, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.policy_document_publish(document=draft_of("privacy", body="Typo fixed."))

    assert mail.outbox == []
    assert "We have updated our" not in client.get("/").content.decode()


def test_a_significant_change_needs_a_summary_to_announce(db):
    draft = draft_of("privacy", significant_change=True)

    with pytest.raises(ValidationError, match="summary of changes"):
        services.policy_document_publish(document=draft)


@pytest.mark.obligation("P53")
def test_staff_draft_and_publish_through_the_admin(client, db, compliance_officer):
    login(client, compliance_officer)

    response = client.post(
        "/admin/nextsupport/policydocument/add/",
        {
            "kind": "accessibility",
            "title": "Accessibility Statement",
            "effective_date": timezone.localdate().isoformat(),
            "summary_of_changes": "",
            "body": "Our commitment\nWe aim for WCAG 2.2 AA.",
        },
    )
    draft = PolicyDocument.objects.get(kind="accessibility", version=2)
    assert response.status_code == 302 and draft.status == PolicyDocument.Status.DRAFT

    client.post("/admin/nextsupport/policydocument/", {"action": "publish", "_selected_action": [draft.pk]})

    draft.refresh_from_db()
    assert draft.status == PolicyDocument.Status.PUBLISHED
    change_page = client.get(f"/admin/nextsupport/policydocument/{draft.pk}/change/").content.decode()
    assert 'name="body"' not in change_page  # read-only once published


@pytest.mark.obligation("P42", "P49", "P54")
def test_people_we_called_find_how_to_stop_calls_and_how_to_make_a_request(client, db):
    html = client.get("/your-rights/").content.decode()

    assert 'href="/stop-calls/"' in html
    assert "No account, no proof of identity" in html
    assert "We answer within 30 days." in html
    assert "mailto:compliance@nextsupport.co.uk" in html
    assert "https://ico.org.uk/make-a-complaint/" in html
