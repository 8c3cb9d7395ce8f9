"""Mounted at ``/assessments/`` by ``config/urls.py``."""

from __future__ import annotations

from django.urls import path

from assessments import views

urlpatterns = [
    path("", views.my_questionnaires, name="assessments_mine"),
    path("<int:pk>/", views.take, name="assessments_take"),
    path("<int:pk>/support/", views.support, name="assessments_support"),
]
