from django.utils import timezone

from .models import PolicyDocument


def current_policy(kind: str) -> PolicyDocument | None:
    """The version of `kind` in force today: newest published, effective date reached."""
    return (
        PolicyDocument.objects.filter(kind=kind, status=PolicyDocument.Status.PUBLISHED, effective_date__lte=timezone.localdate())
        .order_by("-version")
        .first()
    )
