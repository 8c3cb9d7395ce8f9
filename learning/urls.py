from __future__ import annotations

from django.urls import path

from learning import views
from learning.heartbeat import views as heartbeat_views

urlpatterns = [
    path("heartbeat/", heartbeat_views.heartbeat, name="learning_heartbeat"),
    path("quiz/<int:lesson_id>/", views.submit_quiz, name="learning_quiz"),
    path(
        "certificates/<int:course_id>/",
        views.certificate_download,
        name="learning_certificate",
    ),
]
