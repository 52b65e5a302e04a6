import os

from django.http import HttpResponse
from django.urls import path


def index(request):
    return HttpResponse(f"django {os.environ.get('PYSHIP_VERSION', 'dev')}\n", content_type="text/plain")


def healthz(request):
    return HttpResponse("ok\n", content_type="text/plain")


urlpatterns = [path("", index), path("healthz", healthz)]
