from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from nextsupport.urls import urlpatterns as site_urlpatterns

# The same body the consent endpoint answers with, built without any work.
SAME_JSON = {"consent_id": "3f1c2b9e-8d4a-4c6f-9a7e-2b5d8c1e4f60", "categories": ["analytics"], "policy_version": 1, "gpc": False}


@csrf_exempt
@require_POST
def baseline(request):
    return JsonResponse(SAME_JSON, status=201)


urlpatterns = [path("bench/baseline", baseline), *site_urlpatterns]
