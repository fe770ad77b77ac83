from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import documents
from .health import run_checks
from .models import PolicyDocument
from .selectors import current_policy


@never_cache
@require_GET
def healthz(request):
    checks = run_checks()
    healthy = all(check.ok for check in checks)
    body = {"status": "ok" if healthy else "error", "checks": {check.name: check.as_dict() for check in checks}}
    return JsonResponse(body, status=200 if healthy else 503)


def home(request):
    return render(request, "pages/home.html")


def privacy_policy(request):
    document = current_policy(PolicyDocument.Kind.PRIVACY)
    if document is None:
        raise Http404("No privacy policy is published.")
    meta, blocks = documents.parse(document.body)
    return render(request, "pages/policy.html", {"title": "Privacy policy", "meta": meta, "blocks": blocks, "document": document})
