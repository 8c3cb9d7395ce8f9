"""The demo bureau ``seed_demo`` builds: three offices with twelve months of history that
follows the rules, so every dashboard and report has content on the first run."""

from __future__ import annotations

import logging
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone
from wagtail.models import WorkflowState

from assessments.models import Alert, Result, Review
from cms.demo import REVIEW_LESSON_TITLE, STORIES
from courses.panels import own_pages_in_review, pages_to_review
from learning.heartbeat.store import credited_for_person
from learning.models import LessonProgress, StudySession
from live.models import ATTENDED, Attendance, Lecture, Makeup, MakeupKind
from notifications.models import Notification
from participation import rollups
from participation.models import (
    AbsenceRequest,
    AbsenceStatus,
    FollowUp,
    FollowUpPolicy,
    MonthStatus,
    ParticipationRecord,
    ParticipationSource,
    PersonMonth,
    ReportFile,
    ReportStatus,
)
from participation.reports import monthly_report, monthly_reports
from participation.requirements import month_results
from people.demo import RELEASED
from people.models import Office, Person, PersonStatus, User
from plans.models import Plan, PlanStatus

pytestmark = pytest.mark.django_db


def _snapshot() -> dict:
    """Every row the seed writes, without the timestamps a refresh moves."""
    return {
        "persons": sorted(
            Person.objects.values_list("case_number", "office__code", "supervision_start")
        ),
        "lectures": sorted(Lecture.objects.values_list("title", "start", "required")),
        "attendance": sorted(Attendance.objects.values_list("lecture_id", "person_id", "status")),
        "makeups": sorted(Makeup.objects.values_list("lecture_id", "person_id", "completed_how")),
        "sessions": StudySession.objects.count(),
        "progress": sorted(
            LessonProgress.objects.values_list("person_id", "lesson_id", "credited_seconds")
        ),
        "ledger": sorted(
            ParticipationRecord.objects.values_list(
                "person_id", "period", "source", "requirement_key", "minutes", "status"
            )
        ),
        "months": sorted(PersonMonth.objects.values_list("person_id", "period", "status")),
        "absences": sorted(
            AbsenceRequest.objects.values_list("person_id", "requirement_key", "status")
        ),
        "follow_ups": sorted(FollowUp.objects.values_list("person_id", "requirement_key", "stage")),
        "results": Result.objects.count(),
        "reviews": Review.objects.count(),
        "alerts": Alert.objects.count(),
        "plans": sorted(Plan.objects.values_list("person_id", "version", "status")),
        "notifications": Notification.objects.count(),
        "workflows": sorted(WorkflowState.objects.values_list("object_id", "status")),
        "follow_up_policies": FollowUpPolicy.objects.count(),
    }


def test_seed_demo_twice_changes_nothing_and_its_history_follows_the_rules(caplog):
    caplog.set_level(logging.INFO)
    call_command("seed_demo")
    first = _snapshot()
    call_command("seed_demo")
    assert _snapshot() == first
    # `make run` shows the logins, not a task line per published page
    noisy = [r for r in caplog.records if r.name.startswith(("django_tasks", "wagtail"))]
    assert [r for r in noisy if r.levelno < logging.WARNING] == []
    assert logging.getLogger("django_tasks").level == logging.NOTSET  # restored afterwards

    # Lesson ledger rows match the study sessions: each person's credit recomputed from
    # the session rows is the stored credit, and the months' lesson minutes add up to it.
    lesson_minutes = Counter()
    for person_id, key, minutes in ParticipationRecord.objects.filter(
        source=ParticipationSource.LESSON
    ).values_list("person_id", "requirement_key", "minutes"):
        lesson_minutes[(person_id, int(key.partition(":")[2]))] += minutes
    for person in Person.objects.filter(study_sessions__isnull=False).distinct():
        stored = dict(
            LessonProgress.objects.filter(person=person).values_list(
                "lesson_id", "credited_seconds"
            )
        )
        assert credited_for_person(person) == stored
        for lesson_id, seconds in stored.items():
            assert lesson_minutes[(person.pk, lesson_id)] == seconds // 60

    # Lecture ledger rows match the attendance.
    lecture_rows = {
        (person_id, key): (minutes, status)
        for person_id, key, minutes, status in ParticipationRecord.objects.filter(
            source=ParticipationSource.LECTURE
        ).values_list("person_id", "requirement_key", "minutes", "status")
    }
    for row in Attendance.objects.filter(status__in=ATTENDED):
        assert lecture_rows[(row.person_id, f"lecture:{row.lecture_id}")] == (
            row.minutes,
            "completed",
        )

    # Rollups match the ledger: the rule recomputed now gives every stored month.
    today = timezone.localdate()
    periods = rollups.last_months(today, 12)
    for period in periods:
        stored = dict(PersonMonth.objects.filter(period=period).values_list("person_id", "status"))
        results = month_results(Person.objects.all(), period, today)
        computed = {pk: result.status for pk, result in results.items()}
        assert stored == computed, period
    # all but newcomers, and the released persons (under supervision since then)
    assert PersonMonth.objects.filter(period=periods[0]).count() == 27 + len(RELEASED)
    # the thirty, and the person released yesterday
    assert PersonMonth.objects.filter(period=periods[-1]).count() == 31


def test_demo_bureau_has_three_offices_of_ten_and_every_story():
    call_command("seed_demo")
    bureau = Office.objects.get(code="bureau")
    offices = Office.objects.filter(path__startswith=bureau.path, depth=bureau.depth + 1)
    assert {o.code: Person.objects.active().filter(office=o).count() for o in offices} == {
        "dongcheng": 10,
        "xicheng": 10,
        "nanhu": 10,
    }
    officer = User.objects.get(username="officer1")
    counselor = User.objects.get(username="counselor1")
    assert Person.objects.active().visible_to(officer).count() == 10
    # and officer1's released cases, whose files are at every stage of review
    released = Person.objects.filter(status=PersonStatus.ENDED)
    assert set(released.values_list("office__code", flat=True)) == {"dongcheng"}
    assert released.count() == len(RELEASED)
    assert Person.objects.visible_to(counselor).count() == 15

    past = rollups.last_months(timezone.localdate(), 12)[:-1]
    statuses = dict(
        PersonMonth.objects.filter(period__in=past).values_list("status").annotate(n=Count("pk"))
    )
    # mostly met; some excused (a hospital stay), some missed (slipping, late, absent)
    assert statuses[MonthStatus.MET] > 250
    assert statuses[MonthStatus.EXCUSED] >= 3
    assert statuses[MonthStatus.MISSED] >= 10
    # the quota can be met: someone always on time met every month of the year
    steady = Person.objects.get(user__username="learner11")
    assert STORIES.get(11) is None
    assert set(
        PersonMonth.objects.filter(person=steady, period__in=past).values_list("status", flat=True)
    ) == {MonthStatus.MET}
    # a lecture in each of twelve months, with late, left-early, absent and excused attendance
    assert Lecture.objects.filter(start__lt=timezone.now()).count() == 13  # and the replayed one
    assert {"present", "late", "left_early", "absent", "excused"} <= set(
        Attendance.objects.values_list("status", flat=True)
    )
    assert Makeup.objects.filter(completed_how=MakeupKind.RECORDING).exists()
    assert Makeup.objects.filter(completed_how=MakeupKind.LATER_LECTURE).exists()
    assert Makeup.objects.filter(completed_at__isnull=True).exists()
    # leave with evidence, approved and pending
    approved = AbsenceRequest.objects.filter(status=AbsenceStatus.APPROVED)
    assert approved.count() >= 6 and all(a.evidence for a in approved)
    assert AbsenceRequest.objects.filter(status=AbsenceStatus.PENDING, evidence__gt="").exists()
    # questionnaire results at every stage, one critical alert still open
    assert Result.objects.filter(review__isnull=True).exists()
    assert Review.objects.filter(signed_at__isnull=False).count() >= 3
    assert Alert.objects.filter(acknowledged_at__isnull=True).count() == 1
    assert Alert.objects.filter(acknowledged_at__isnull=False).count() == 1
    # plans drafted, approved, and one under review (an approved plan with a revision draft)
    plans = Counter(Plan.objects.values_list("status", flat=True))
    assert plans[PlanStatus.DRAFT] >= 2 and plans[PlanStatus.APPROVED] == 2
    under_review = Plan.objects.get(person__user__username="learner3", status=PlanStatus.DRAFT)
    assert under_review.previous.status == PlanStatus.APPROVED
    assert FollowUp.objects.filter(officer_acted_at__isnull=False).exists()


def test_every_dashboard_and_report_has_content_for_the_demo_staff():
    call_command("seed_demo")
    officer = User.objects.get(username="officer1")
    admin = User.objects.get(username="admin")
    today = timezone.localdate()
    months = rollups.last_months(today, 12)
    last_month = months[-2]

    # officer1's home: who is not yet complete this month
    assert rollups.at_risk_rows(officer, months[-1]).exists()
    # the participation dashboard: offices, a twelve-month trend, the heat map
    for user, offices in ((officer, 1), (admin, 4)):
        rows = rollups.office_month_rows(user, last_month)
        assert len(rows) == offices and sum(r.persons for r in rows) > 0
        assert all(f.persons for f in rollups.trend(user, months))
        grid = rollups.heatmap(user, months)
        assert grid and all(cells and all(c.persons for c in cells) for _name, cells in grid)
    dongcheng = officer.office
    # the ten, and those released during last month or later (their last month)
    released = Person.objects.filter(status=PersonStatus.ENDED, supervision_end__gte=last_month)
    current = 10 + released.count()
    assert rollups.person_month_rows(officer, dongcheng, last_month).count() == current
    # the monthly report of the office, and the bureau's (one per office)
    report = monthly_report(officer, dongcheng, last_month)
    assert len(report.persons) == current and report.total["persons"] == current
    assert len(report.trend) >= 6 and (report.trend["persons"] > 0).all()
    reports = monthly_reports(admin, Office.objects.get(code="bureau"), last_month)
    assert sum(r.total["persons"] for r in reports) >= 30
    # and officer1 already asked for last month's report, which was built
    requested = ReportFile.objects.get(requested_by=officer)
    assert requested.status == ReportStatus.READY and requested.file


def test_the_editor_has_a_lesson_to_review_and_the_follow_up_policy_is_listed():
    call_command("seed_demo")
    editor = User.objects.get(username="editor1")
    lecturer = User.objects.get(username="lecturer1")
    waiting = [state.page.title for state in pages_to_review(editor)]
    assert waiting == [REVIEW_LESSON_TITLE]
    assert [row.page.title for row in own_pages_in_review(lecturer)] == [REVIEW_LESSON_TITLE]
    assert FollowUpPolicy.objects.count() == 1
