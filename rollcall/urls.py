"""Mounted at ``/rollcall/`` by ``config/urls.py``."""

from __future__ import annotations

from django.urls import path

from rollcall import views

urlpatterns = [
    path("", views.my_roll_calls, name="rollcall_mine"),
    path("<int:pk>/", views.call_page, name="rollcall_call"),
    path("<int:pk>/join/", views.join, name="rollcall_join"),
]
