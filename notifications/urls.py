"""Mounted at ``/notifications/`` by ``config/urls.py``."""

from __future__ import annotations

from django.urls import path

from notifications import views

urlpatterns = [
    path("", views.inbox, name="notifications_inbox"),
    path("<int:pk>/open/", views.open_notification, name="notifications_open"),
    path("read-all/", views.read_all, name="notifications_read_all"),
]
