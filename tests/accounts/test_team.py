"""Team management: invitations by e-mail with expiring signed links, roles, removal (P25)."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts import services
from accounts.models import ROLE_CAPABILITIES, ROLE_DESCRIPTIONS, Capability, Invitation, Membership, Role, User
from nextsupport import privacy
from tests.accounts.helpers import actions, last_sequence
from tests.conftest import login
from tests.factories import InvitationFactory, MembershipFactory, OrganisationFactory, UserFactory


def _invite(client, organisation, email, role=Role.VIEWER):
    return client.post(f"/app/o/{organisation.pk}/account/team/invite/", {"email": email, "role": role})


def _link(message) -> str:
    return re.search(r"http://127\.0\.0\.1:8000(/app/invitations/[^\s/]+/)", message.body).group(1)


@pytest.mark.obligation("P25")
def test_an_invited_colleague_signs_up_from_the_link_and_joins_with_the_given_role(
    owner_client, organisation, django_capture_on_commit_callbacks
):
    since = last_sequence()
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(owner_client, organisation, "Sam.Jones@Acme.example", Role.CAMPAIGN_MANAGER)
    assert response.status_code == 302
    link = _link(mail.outbox[-1])
    assert mail.outbox[-1].to == ["sam.jones@acme.example"]

    newcomer = Client()
    landing = newcomer.get(link)
    assert "Join Acme Energy Ltd" in landing.content.decode()
    signup = newcomer.get("/accounts/signup/")
    assert 'value="sam.jones@acme.example"' in signup.content.decode()
    assert "organisation_name" not in signup.content.decode()  # joining, not creating an organisation
    created = newcomer.post(
        "/accounts/signup/",
        {
            "full_name": "Sam Jones",
            "email": "sam.jones@acme.example",
            "password1": "a-long-and-unusual-passphrase-81",
            "password2": "a-long-and-unusual-passphrase-81",
            "accept_terms": "on",
            "version_terms": "1",
        },
    )

    assert created.status_code == 302, created.content.decode()[:2000]
    membership = Membership.objects.get(user__email="sam.jones@acme.example")
    assert membership.organisation == organisation and membership.role == Role.CAMPAIGN_MANAGER
    assert Invitation.objects.get().accepted_at is not None
    assert {"member.invited", "member.joined"} <= set(actions(since))
    # The address counted as verified (the link proved it), so the next stop is the second factor.
    assert newcomer.get("/app/")["Location"].startswith("/accounts/2fa/setup/")


def test_an_organisation_name_with_markup_is_shown_as_text_on_the_invitee_sign_up_page(db):
    evil = OrganisationFactory(legal_name='Evil <script>alert("x")</script> Ltd')
    inviter = MembershipFactory(organisation=evil, role=Role.OWNER)
    invitation = services.invitation_create(
        organisation=evil, email="victim@example.com", role=Role.VIEWER, invited_by=inviter, request=None
    )
    victim = Client()
    victim.get(f"/app/invitations/{invitation.token()}/")

    html = victim.get("/accounts/signup/").content.decode()

    assert '<script>alert("x")</script>' not in html
    assert "Evil &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Ltd invited" in html


def test_help_text_built_as_markup_still_renders_as_markup_on_sign_up(client, db):
    # Django's password rules arrive as an HTML list built with format_html: kept as a list.
    html = client.get("/accounts/signup/").content.decode()

    assert '<div class="helptext" id="id_password1_helptext"><ul><li>' in html


def test_an_existing_user_accepts_an_invitation_after_signing_in(
    owner_client, organisation, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(owner_client, organisation, outsider.email)
    link = _link(mail.outbox[-1])
    them = login(Client(), outsider)

    assert them.get(link).status_code == 200
    response = them.post(link)

    assert response["Location"] == f"/app/o/{organisation.pk}/"
    assert Membership.objects.filter(user=outsider, organisation=organisation, role=Role.VIEWER).exists()


def test_an_invitation_link_expires(owner_client, organisation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(owner_client, organisation, "late@acme.example")
    link = _link(mail.outbox[-1])

    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        response = Client().get(link)

    assert response.status_code == 404
    assert "cannot be used" in response.content.decode()


def _resend(client, organisation, invitation):
    return client.post(f"/app/o/{organisation.pk}/account/team/invitations/{invitation.pk}/resend/", follow=True)


def test_resending_an_invitation_replaces_the_old_link(owner_client, organisation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(owner_client, organisation, "twice@acme.example")
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(minutes=61)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        page = _resend(owner_client, organisation, Invitation.objects.get())
    first, second = _link(mail.outbox[-2]), _link(mail.outbox[-1])

    assert "sent again to twice@acme.example" in page.content.decode()
    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200


# --- Invitations cannot be used to send spam --------------------------------------------------


def test_an_address_with_a_pending_invitation_is_not_sent_a_second_one(
    owner_client, organisation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(owner_client, organisation, "once@acme.example")
        again = _invite(owner_client, organisation, "Once@Acme.example", Role.ADMIN)

    assert again.status_code == 400
    assert "already has an invitation waiting" in again.content.decode()
    assert len(mail.outbox) == 1
    assert Invitation.objects.get().role == Role.VIEWER


def test_an_invitation_is_sent_again_at_most_once_an_hour(owner_client, organisation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(owner_client, organisation, "patient@acme.example")
    invitation = Invitation.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        too_soon = _resend(owner_client, organisation, invitation)
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(minutes=61)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        later = _resend(owner_client, organisation, invitation)
        too_soon_again = _resend(owner_client, organisation, invitation)

    assert "can be sent again after" in too_soon.content.decode()
    assert "sent again to patient@acme.example" in later.content.decode()
    assert "can be sent again after" in too_soon_again.content.decode()
    assert len(mail.outbox) == 2


def test_an_organisation_sends_a_limited_number_of_invitations_a_day(
    owner_client, organisation, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "INVITATIONS_PER_ORGANISATION_PER_DAY", 2)

    with django_capture_on_commit_callbacks(execute=True):
        answers = [_invite(owner_client, organisation, f"person{n}@acme.example") for n in range(3)]

    assert [a.status_code for a in answers] == [302, 302, 400]
    assert "2 invitations today" in answers[2].content.decode()
    assert len(mail.outbox) == 2 and Invitation.objects.count() == 2


def test_one_address_receives_a_limited_number_of_invitations_a_day_whoever_sends_them(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "INVITATIONS_PER_ADDRESS_PER_DAY", 2)
    senders = [MembershipFactory(role=Role.OWNER) for _ in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        answers = [_invite(login(Client(), m.user), m.organisation, "target@victim.example") for m in senders]

    assert [a.status_code for a in answers] == [302, 302, 400]
    assert "cannot send another invitation to this address today" in answers[2].content.decode()
    assert len(mail.outbox) == 2


def test_a_new_client_awaiting_approval_can_invite_its_team(db, django_capture_on_commit_callbacks):
    founder = MembershipFactory(role=Role.OWNER, organisation=OrganisationFactory(new=True))

    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(login(Client(), founder.user), founder.organisation, "colleague@new.example")

    assert response.status_code == 302
    assert mail.outbox[-1].to == ["colleague@new.example"]


def test_a_tampered_link_is_refused(db):
    assert Client().get("/app/invitations/eyJpIjoxLCJuIjoiYSJ9:forged:signature/").status_code == 404


def test_a_withdrawn_invitation_stops_working(owner_client, organisation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _invite(owner_client, organisation, "gone@acme.example")
    link = _link(mail.outbox[-1])

    owner_client.post(f"/app/o/{organisation.pk}/account/team/invitations/{Invitation.objects.get().pk}/revoke/")

    assert Client().get(link).status_code == 404


@pytest.mark.obligation("P25")
def test_an_admin_cannot_make_someone_an_owner(client, organisation):
    admin = MembershipFactory(organisation=organisation, role=Role.ADMIN).user
    login(client, admin)

    response = _invite(client, organisation, "boss@acme.example", Role.OWNER)

    assert response.status_code == 400
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("email", "error"),
    [
        ("", "This field is required."),
        ("not-an-address", "Enter a valid email address."),
        ("a" * 250 + "@acme.example", "at most 254 characters"),  # valid, but longer than any login address
    ],
)
def test_a_bad_address_is_explained_next_to_its_field_and_nothing_is_sent(owner_client, organisation, email, error):
    response = _invite(owner_client, organisation, email)

    assert response.status_code == 400
    assert error in response.context["invite_form"].errors["email"][0]
    assert not Invitation.objects.exists() and not mail.outbox


def test_an_owner_changes_a_role(owner_client, organisation, teammate):
    membership = Membership.objects.get(user=teammate)
    since = last_sequence()

    owner_client.post(f"/app/o/{organisation.pk}/account/team/{membership.pk}/role/", {f"m{membership.pk}-role": Role.ADMIN})

    assert Membership.objects.get(pk=membership.pk).role == Role.ADMIN
    assert actions(since) == ["member.role_changed"]


@pytest.mark.obligation("P25")
def test_the_last_owner_can_be_neither_removed_nor_demoted(owner_client, organisation, owner):
    mine = Membership.objects.get(user=owner)
    admin_membership = MembershipFactory(organisation=organisation, role=Role.ADMIN)
    admin_client = login(Client(), admin_membership.user)

    admin_client.post(f"/app/o/{organisation.pk}/account/team/{mine.pk}/remove/")
    owner_client.post(f"/app/o/{organisation.pk}/account/team/{mine.pk}/role/", {f"m{mine.pk}-role": Role.ADMIN})
    owner_client.post(f"/app/o/{organisation.pk}/account/team/leave/")
    page = owner_client.get(f"/app/o/{organisation.pk}/account/team/")

    assert Membership.objects.get(pk=mine.pk).role == Role.OWNER
    assert "only owner" in page.content.decode() or "last owner" in page.content.decode()


def test_an_owner_may_leave_once_there_is_another_owner(owner_client, organisation, owner):
    MembershipFactory(organisation=organisation, role=Role.OWNER)

    response = owner_client.post(f"/app/o/{organisation.pk}/account/team/leave/")

    assert response["Location"] == "/app/"
    assert not Membership.objects.filter(user=owner, organisation=organisation).exists()
    assert owner_client.get(f"/app/o/{organisation.pk}/").status_code == 404


@pytest.mark.obligation("P25")
def test_a_removed_member_loses_access_at_once(owner_client, organisation, teammate):
    theirs = login(Client(), teammate)
    assert theirs.get(f"/app/o/{organisation.pk}/").status_code == 200

    owner_client.post(f"/app/o/{organisation.pk}/account/team/{Membership.objects.get(user=teammate).pk}/remove/")

    assert theirs.get(f"/app/o/{organisation.pk}/").status_code == 404


@pytest.mark.obligation("P29")
def test_a_removed_member_with_no_other_organisation_starts_the_retention_clock(owner_client, organisation, teammate):
    owner_client.post(f"/app/o/{organisation.pk}/account/team/{Membership.objects.get(user=teammate).pk}/remove/")

    assert User.objects.get(pk=teammate.pk).account_ended_on == timezone.localdate()
    assert (
        privacy.registration_for(User)
        .expired(timezone.now() + datetime.timedelta(days=6 * 366 + 2))
        .filter(pk=teammate.pk)
        .exists()
    )


@pytest.mark.obligation("P29")
def test_a_member_who_leaves_their_last_organisation_starts_the_retention_clock(organisation, teammate):
    login(Client(), teammate).post(f"/app/o/{organisation.pk}/account/team/leave/")

    assert User.objects.get(pk=teammate.pk).account_ended_on == timezone.localdate()


@pytest.mark.obligation("P29")
def test_a_member_who_leaves_but_works_for_another_client_keeps_a_running_account(organisation, teammate, other_organisation):
    MembershipFactory(user=teammate, organisation=other_organisation)

    login(Client(), teammate).post(f"/app/o/{organisation.pk}/account/team/leave/")

    assert User.objects.get(pk=teammate.pk).account_ended_on is None


@pytest.mark.obligation("P25")
def test_viewers_see_the_team_but_cannot_change_it(client, organisation, teammate, owner):
    login(client, teammate)
    owner_membership = Membership.objects.get(user=owner)

    page = client.get(f"/app/o/{organisation.pk}/account/team/")
    invite = _invite(client, organisation, "someone@acme.example")
    demote = client.post(f"/app/o/{organisation.pk}/account/team/{owner_membership.pk}/role/", {"role": "viewer"})

    assert page.status_code == 200 and "Send invitation" not in page.content.decode()
    assert invite.status_code == 403 and demote.status_code == 403
    assert Membership.objects.get(pk=owner_membership.pk).role == Role.OWNER


def test_a_person_already_in_the_team_is_not_invited_again(owner_client, organisation, teammate):
    response = _invite(owner_client, organisation, teammate.email.upper())

    assert response.status_code == 400
    assert "already a member" in response.content.decode()


def test_a_new_user_with_the_invited_address_but_no_link_sees_the_invitation_on_their_home_page(organisation, owner):
    services.invitation_create(
        organisation=organisation,
        email="found@acme.example",
        role=Role.VIEWER,
        invited_by=Membership.objects.get(user=owner),
        request=None,
    )
    person = login(Client(), UserFactory(email="found@acme.example"))

    page = person.get("/app/").content.decode()

    assert "Join Acme Energy Ltd as viewer" in page


def test_the_team_page_costs_the_same_few_queries_for_a_large_team(owner_client, organisation, django_assert_max_num_queries):
    for _ in range(10):
        MembershipFactory(organisation=organisation)
        InvitationFactory(organisation=organisation)
    owner_client.get(f"/app/o/{organisation.pk}/account/team/")  # the first request after signing in does sign-in chores

    # Session, sign-in record, user, device, membership; then the members and the invitations, once each.
    with django_assert_max_num_queries(7):
        response = owner_client.get(f"/app/o/{organisation.pk}/account/team/")

    assert response.status_code == 200 and len(response.context["members"]) == 11


def test_an_admin_is_not_offered_changes_to_an_owner(client, organisation, owner):
    admin = MembershipFactory(organisation=organisation, role=Role.ADMIN).user
    login(client, admin)
    owner_membership = Membership.objects.get(user=owner)

    page = client.get(f"/app/o/{organisation.pk}/account/team/").content.decode()

    assert f"/account/team/{owner_membership.pk}/remove/" not in page
    assert f"/account/team/{owner_membership.pk}/role/" not in page


def test_what_the_team_page_says_of_each_role_is_what_the_role_may_do(owner_client, organisation):
    # Given the capabilities behind the roles
    viewer, manager = ROLE_CAPABILITIES[Role.VIEWER], ROLE_CAPABILITIES[Role.CAMPAIGN_MANAGER]

    # When the team page describes them
    html = owner_client.get(reverse("accounts:team", args=[organisation.pk])).content.decode()

    # Then the viewer's text says personal data is hidden, and it is; the manager's says it is shown, and it is
    assert (
        Capability.SEE_PERSONAL_DATA not in viewer and "names and e-mail addresses are hidden" in ROLE_DESCRIPTIONS[Role.VIEWER]
    )
    assert (
        Capability.SEE_PERSONAL_DATA in manager and "see and edit consumers' details" in ROLE_DESCRIPTIONS[Role.CAMPAIGN_MANAGER]
    )
    assert Capability.EXPORT_DATA in manager and "export data" in ROLE_DESCRIPTIONS[Role.CAMPAIGN_MANAGER]
    assert Capability.CLOSE_ORGANISATION in ROLE_CAPABILITIES[Role.OWNER] - ROLE_CAPABILITIES[Role.ADMIN]
    assert all(escape(text) in html for text in ROLE_DESCRIPTIONS.values())
    assert "campaigns and results only" not in html


def test_removing_a_member_asks_first(owner_client, organisation, teammate):
    membership = Membership.objects.get(user=teammate, organisation=organisation)
    url = reverse("accounts:member-remove", args=[organisation.pk, membership.pk])

    asked = owner_client.get(url)

    assert asked.status_code == 200 and "Remove" in asked.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()
    owner_client.post(url)
    assert not Membership.objects.filter(pk=membership.pk).exists()
