"""The site's views."""
import os

from django.conf import settings
from django.http import HttpResponse, JsonResponse


def index(request):
    return JsonResponse({"app": settings.APP_NAME, "version": os.environ.get("PYSHIP_VERSION", "dev")})


def healthz(request):
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
