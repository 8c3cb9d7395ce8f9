"""The admin home's lecture panels, shown by role (``wagtail_hooks.py``).

officer → this week's lectures for the office and the recent gaps (absent, left early, or
"are you still here?" presence checks left unanswered); lecturer → the next own lectures
with a start button and the live roster. Each reads a fixed number of queries whatever the
number of lectures and persons. There is no roll-call yet: the gaps are those the lectures
record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from wagtail.admin.ui.components import Component

from live.centre import CENTRE_MODES
from live.models import (
    NEEDS_MAKEUP,
    Attendance,
    CheckResponseStatus,
    Lecture,
    PresenceCheckResponse,
)
from live.services import join_window
from people.models import Person

PANEL_ROWS = 8
WEEK = dt.timedelta(days=7)
# How far back the officer's "gaps" panel looks.
GAP_DAYS = 14


def _day_start(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def week_lectures(user, now: dt.datetime) -> list[Lecture]:
    """Lectures the user sees (``Lecture.objects.visible_to``) from today to a week ahead,
    under way or not yet ended, soonest first (one query)."""
    start = _day_start(now)
    return list(
        Lecture.objects.visible_to(user)
        .upcoming(now)
        .filter(start__lt=start + WEEK)
        .select_related("lecturer")[:PANEL_ROWS]
    )


class OfficeLecturesPanel(Component):
    name = "live_week_lectures"
    template_name = "live/admin/home_week_lectures.html"
    order = 30

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        now = timezone.now()
        return {"lectures": week_lectures(self.user, now), "now": now, "centre": CENTRE_MODES}


def recent_gaps(user, now: dt.datetime) -> list[Attendance]:
    """Attendance of the persons the user sees (``Person.objects.visible_to``) at lectures
    ended in the last ``GAP_DAYS`` days that has a gap: absent, left early, or a presence check
    left unanswered (``missed_checks``). Newest lecture first; one query."""
    missed = (
        PresenceCheckResponse.objects.filter(
            presence_check__lecture=OuterRef("lecture_id"),
            person=OuterRef("person_id"),
            status=CheckResponseStatus.MISSED,
        )
        .order_by()
        .values("person")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return list(
        Attendance.objects.filter(
            person__in=_persons_seen(user),
            lecture__end__lte=now,
            lecture__end__gt=now - dt.timedelta(days=GAP_DAYS),
        )
        .with_effective_status()
        .annotate(missed_checks=Coalesce(Subquery(missed), 0))
        .filter(Q(effective__in=NEEDS_MAKEUP) | Q(missed_checks__gt=0))
        .select_related("person", "lecture")
        .order_by("-lecture__start", "person__full_name", "pk")[:PANEL_ROWS]
    )


def _persons_seen(user):
    # Not ``Attendance.visible_to``: that adds a lecturer's own rosters, and these gaps are
    # the officer's persons only.
    return Person.objects.visible_to(user).values("pk")


class PresenceGapsPanel(Component):
    name = "live_recent_gaps"
    template_name = "live/admin/home_recent_gaps.html"
    order = 40

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        return {"rows": recent_gaps(self.user, timezone.now()), "days": GAP_DAYS}


@dataclass(frozen=True)
class NextLecture:
    lecture: Lecture
    opens_at: dt.datetime
    open_now: bool


def next_own_lectures(user, now: dt.datetime) -> list[NextLecture]:
    """The lecturer's own lectures not yet ended, soonest first, each saying whether its room
    is open to start (one query)."""
    lectures = Lecture.objects.visible_to(user).filter(lecturer=user).upcoming(now)[:PANEL_ROWS]
    rows = []
    for lecture in lectures:
        opens, closes = join_window(lecture)
        rows.append(NextLecture(lecture=lecture, opens_at=opens, open_now=opens <= now < closes))
    return rows


class LecturerNextPanel(Component):
    name = "live_next_lectures"
    template_name = "live/admin/home_next_lectures.html"
    order = 10

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        return {"rows": next_own_lectures(self.user, timezone.now())}
