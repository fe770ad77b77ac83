from django.conf import settings


def site(request):
    return {"COMPLIANCE_EMAIL": settings.COMPLIANCE_EMAIL}
