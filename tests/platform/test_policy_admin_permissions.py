"""Only staff who may change policy documents can publish or draft them from the admin (P53)."""

import pytest
from django.contrib.auth.models import Permission

from nextsupport import services
from nextsupport.models import PolicyDocument
from tests.conftest import login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def staff_with(*codenames):
    user = UserFactory(is_staff=True, is_superuser=False)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="nextsupport", codename__in=codenames))
    return user


def a_draft() -> PolicyDocument:
    current = PolicyDocument.objects.filter(kind=PolicyDocument.Kind.TERMS, status=PolicyDocument.Status.PUBLISHED).first()
    return services.policy_document_draft_from(document=current)


@pytest.mark.obligation("P53")
def test_staff_who_may_only_view_policy_documents_cannot_publish_a_draft(client, site_content):
    draft = a_draft()
    login(client, staff_with("view_policydocument"))

    client.post("/admin/nextsupport/policydocument/", {"action": "publish", "_selected_action": [draft.pk]})

    draft.refresh_from_db()
    assert draft.status == PolicyDocument.Status.DRAFT


def test_staff_who_may_change_policy_documents_publish_a_draft(client, site_content):
    draft = a_draft()
    login(client, staff_with("view_policydocument", "change_policydocument"))

    client.post("/admin/nextsupport/policydocument/", {"action": "publish", "_selected_action": [draft.pk]})

    draft.refresh_from_db()
    assert draft.status == PolicyDocument.Status.PUBLISHED
