"""The person's own leave requests, mounted at ``/learning/`` beside the study pages (the
addresses learners already have)."""

from __future__ import annotations

from participation.views import absences

urlpatterns = absences.urlpatterns
