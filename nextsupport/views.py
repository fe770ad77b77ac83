from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import documents
from .health import run_checks


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
    meta, blocks = documents.parse(documents.PRIVACY_POLICY_FILE.read_text(encoding="utf-8"))
    return render(request, "pages/policy.html", {"title": "Privacy policy", "meta": meta, "blocks": blocks})
