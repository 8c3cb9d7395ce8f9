"""Mounted at ``/privacy/`` by ``config/urls.py``."""

from __future__ import annotations

from django.urls import path

from people import privacy_views

urlpatterns = [path("", privacy_views.privacy_notice, name="privacy_notice")]
