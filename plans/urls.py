"""Mounted at ``/plans/`` by ``config/urls.py``."""

from __future__ import annotations

from django.urls import path

from plans import views

urlpatterns = [
    path("mine/", views.my_plan, name="plans_mine"),
    path("mine/acknowledge/", views.acknowledge, name="plans_acknowledge"),
    path("mine/appointments/<int:pk>.ics", views.appointment_ics, name="plans_appointment_ics"),
]
