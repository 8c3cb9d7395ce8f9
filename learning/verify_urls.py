"""The public certificate check, mounted at ``/verify/`` (no sign-in)."""

from __future__ import annotations

from django.urls import path

from learning import views

urlpatterns = [
    path("<str:code>/", views.verify_certificate, name="certificate_verify"),
]
