"""URL routes: / and /healthz."""
from django.urls import path

from mysite import views

urlpatterns = [
    path("", views.index, name="index"),
    path("healthz", views.healthz, name="healthz"),
]
