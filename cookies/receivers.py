"""Keep the banner's cached register and policy version in step with the database."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from nextsupport.models import PolicyDocument
from nextsupport.signals import policy_published

from .models import RegisterEntry
from .selectors import published_cookie_policy_versions
from .services import banner_cache_clear


@receiver([post_save, post_delete], sender=RegisterEntry, dispatch_uid="cookies.register_changed")
def register_changed(**kwargs):
    banner_cache_clear()


@receiver(policy_published, dispatch_uid="cookies.policy_published")
def cookie_policy_published(*, document, **kwargs):
    if document.kind == PolicyDocument.Kind.COOKIES:
        published_cookie_policy_versions.forget()
        banner_cache_clear()
