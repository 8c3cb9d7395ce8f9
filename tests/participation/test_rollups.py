"""Participation rollups (participation/rollups.py): equal to month_results, idempotent, kept
current from the ledger, scoped per role, read in a fixed number of queries; the two commands."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from participation import rollups
from participation.models import (
    MonthStatus,
    OfficeMonth,
    ParticipationRecord,
    ParticipationSource,
    ParticipationStatus,
    PersonMonth,
    StudyQuota,
)
from participation.requirements import month_results
from people.models import Category, Office, Person, User
from people.roles import Role, has_role
from tests.factories import make_person

MARCH = dt.date(2026, 3, 1)
TODAY = dt.date(2026, 3, 20)  # March still open: unmet persons are "at risk"
FIELDS = ("person_id", "office_id", "category", "status", "required", "met", "excused",
          "missing", "study_minutes", "quota_minutes")  # fmt: skip


def _study(person, minutes, period=MARCH):
    ParticipationRecord.objects.update_or_create(
        person=person,
        source=ParticipationSource.LESSON,
        requirement_key="lesson:1",
        period=period,
        defaults={"minutes": minutes, "status": ParticipationStatus.IN_PROGRESS},
    )


def _rows(period=MARCH):
    return sorted(PersonMonth.objects.filter(period=period).values_list(*FIELDS))


@pytest.fixture
def quota(db):
    StudyQuota.objects.update_or_create(category=Category.NORMAL, defaults={"hours": 2})


@pytest.fixture
def crowd(org, quota):
    """East: the learner (done) and three more (one done, two short); west: one short."""
    _study(org.person, 150)
    done = make_person(org.east)
    _study(done, 120)
    short = [make_person(org.east), make_person(org.east)]
    _study(short[0], 30)
    _study(org.other_person, 10)
    return org


def test_person_months_equal_month_results(crowd):
    rollups.refresh_month(MARCH, today=TODAY)
    expected = month_results(Person.objects.all(), MARCH, TODAY)
    rows = {row.person_id: row for row in PersonMonth.objects.filter(period=MARCH)}
    assert set(rows) == set(expected)
    for pk, result in expected.items():
        row = rows[pk]
        assert (row.status, row.required, row.met, row.excused) == (
            result.status,
            result.required,
            result.met,
            result.excused,
        )
        assert row.study_minutes == result.study_minutes
        assert [m["key"] for m in row.missing] == [m.key for m in result.missing]


def test_refreshing_twice_gives_the_same_rows(crowd):
    rollups.refresh_month(MARCH, today=TODAY)
    first = _rows()
    offices = sorted(OfficeMonth.objects.values_list("office_id", "category", "persons", "met"))
    rollups.refresh_month(MARCH, today=TODAY)
    assert _rows() == first
    assert (
        sorted(OfficeMonth.objects.values_list("office_id", "category", "persons", "met"))
        == offices
    )


def test_office_months_count_the_person_months(crowd):
    rollups.refresh_month(MARCH, today=TODAY)
    east = OfficeMonth.objects.get(office=crowd.east, period=MARCH, category=Category.NORMAL)
    assert (east.persons, east.met, east.at_risk, east.missed) == (4, 2, 2, 0)
    west = OfficeMonth.objects.get(office=crowd.west, period=MARCH)
    assert (west.persons, west.at_risk) == (1, 1)


def test_a_month_that_is_over_turns_at_risk_into_missed(crowd):
    rollups.refresh_month(MARCH, today=dt.date(2026, 4, 2))
    assert PersonMonth.objects.get(person=crowd.other_person).status == MonthStatus.MISSED


def test_a_ledger_change_makes_the_person_dirty_and_the_refresh_changes_the_row(crowd):
    rollups.refresh_month(MARCH, today=TODAY)
    assert rollups.dirty_persons(MARCH) == []
    _study(crowd.other_person, 200)  # the heartbeat's kind of write: the row's updated_at moves
    assert rollups.dirty_persons(MARCH) == [crowd.other_person.pk]
    result = rollups.refresh_dirty(MARCH, today=TODAY)
    assert result.persons == 1
    assert PersonMonth.objects.get(person=crowd.other_person).status == MonthStatus.MET
    west = OfficeMonth.objects.get(office=crowd.west, period=MARCH)
    assert (west.met, west.at_risk) == (1, 0)
    assert rollups.dirty_persons(MARCH) == []


def test_mark_dirty_catches_a_deleted_entry(crowd):
    rollups.refresh_month(MARCH, today=TODAY)
    ParticipationRecord.objects.filter(person=crowd.person).delete()
    assert crowd.person.pk not in rollups.dirty_persons(MARCH)  # no timestamp shows a delete
    rollups.mark_dirty([crowd.person.pk], MARCH)
    assert rollups.dirty_persons(MARCH) == [crowd.person.pk]
    rollups.refresh_dirty(MARCH, today=TODAY)
    assert PersonMonth.objects.get(person=crowd.person).status == MonthStatus.AT_RISK


def test_a_person_who_moves_office_leaves_the_old_office_count(crowd):
    rollups.refresh_month(MARCH, today=TODAY)
    Person.objects.filter(pk=crowd.other_person.pk).update(
        office=crowd.east, updated_at=timezone.now()
    )
    rollups.refresh_dirty(MARCH, today=TODAY)
    assert not OfficeMonth.objects.filter(office=crowd.west, period=MARCH).exists()
    assert OfficeMonth.objects.get(office=crowd.east, period=MARCH).persons == 5


def test_a_future_month_is_refused(org):
    with pytest.raises(rollups.FutureMonth):
        rollups.refresh_month(dt.date(2026, 5, 1), today=TODAY)


# --- Scoped readers -----------------------------------------------------------------------


def _offices_seen(user):
    return {row.office_id for row in rollups.office_month_rows(user, MARCH)}


def test_office_rows_are_scoped_per_role(crowd):
    rollups.refresh_month(MARCH, today=TODAY)
    org = crowd
    assert _offices_seen(org.officer) == {org.east.pk}
    assert _offices_seen(org.other_officer) == {org.west.pk}
    assert _offices_seen(org.administrator) == {org.bureau.pk, org.east.pk, org.west.pk}
    for user in (org.counselor, org.learner, org.lecturer, org.editor, org.outsider):
        assert _offices_seen(user) == set()


def test_person_rows_are_scoped_per_role(crowd):
    rollups.refresh_month(MARCH, today=TODAY)
    org = crowd
    assert rollups.person_month_rows(org.officer, org.east, MARCH).count() == 4
    assert rollups.person_month_rows(org.other_officer, org.east, MARCH).count() == 0
    assert rollups.person_month_rows(org.administrator, org.bureau, MARCH).count() == 5
    at_risk = rollups.person_month_rows(org.officer, org.east, MARCH, MonthStatus.AT_RISK)
    assert at_risk.count() == 2
    assert rollups.person_month_rows(org.counselor, org.east, MARCH).count() == 0


def test_rows_cost_a_fixed_number_of_queries_whatever_the_number_of_offices(
    crowd, django_assert_max_num_queries
):
    for n in range(30):
        office = Office.objects.get(pk=crowd.bureau.pk).add_child(name=f"所{n}", code=f"o{n}")
        make_person(office)
    rollups.refresh_month(MARCH, today=TODAY)
    admin = crowd.administrator
    with django_assert_max_num_queries(5):
        rows = rollups.office_month_rows(admin, MARCH)
    assert len(rows) == 33
    with django_assert_max_num_queries(5):
        assert len(list(rollups.person_month_rows(admin, crowd.bureau, MARCH))) == 35
    with django_assert_max_num_queries(5):
        rollups.trend(admin, rollups.last_months(TODAY, 12))
    with django_assert_max_num_queries(5):
        assert len(rollups.heatmap(admin, rollups.last_months(TODAY, 12))) == 32


# --- Commands -----------------------------------------------------------------------------


def test_refresh_rollups_command(crowd, capsys):
    this_month = timezone.localdate().replace(day=1)
    call_command("refresh_rollups", "--month", "2026-03")
    assert PersonMonth.objects.filter(period=MARCH).count() == 5
    call_command("refresh_rollups")
    assert "person-month(s) computed" in capsys.readouterr().out
    assert PersonMonth.objects.filter(period=this_month).exists() == (
        Person.objects.filter(supervision_end__gte=this_month).exists()
    )
    with pytest.raises(CommandError, match="has not started"):
        call_command("refresh_rollups", "--month", "2999-01")
    with pytest.raises(CommandError, match="2026-03"):
        call_command("refresh_rollups", "--month", "March")


def test_generate_load_data_small_and_refuses_twice(db, capsys):
    call_command(
        "generate_load_data", "--persons", "40", "--months", "2", "--offices", "4", "--seed", "3"
    )
    out = capsys.readouterr().out
    assert "done in" in out
    assert Person.objects.count() == 40
    assert Office.objects.filter(code__startswith="load-province").count() >= 5
    assert ParticipationRecord.objects.exists()
    # live lessons and progress in them, so the staff's progress pages look them up
    from courses.models import LessonPage
    from learning.models import LessonProgress

    assert LessonPage.objects.live().count() == 4 * 4
    progress = LessonProgress.objects.all()
    assert progress.filter(completed_at__isnull=False).exists()
    assert progress.filter(completed_at__isnull=True, credited_seconds__gt=0).exists()
    statuses = set(PersonMonth.objects.values_list("status", flat=True))
    assert MonthStatus.MET in statuses
    # the rollups equal the rule, on the generated ledger too
    period = PersonMonth.objects.order_by("period").values_list("period", flat=True).first()
    expected = month_results(Person.objects.all(), period)
    rows = PersonMonth.objects.filter(period=period).values_list("person_id", "status")
    assert dict(rows) == {pk: r.status for pk, r in expected.items()}
    with pytest.raises(CommandError, match="already exists"):
        call_command("generate_load_data", "--persons", "5", "--months", "1")


def test_generate_load_data_gives_the_bench_its_three_staff_accounts(db, capsys):
    """bench/bench_staff_pages.py signs in as these: the province's administrator, the first
    office's officer (case officer of its persons) and a counselor with a caseload of current
    persons, the officer's office's first."""
    call_command(
        "generate_load_data", "--persons", "60", "--months", "1", "--offices", "4", "--seed", "5"
    )
    capsys.readouterr()
    admin = User.objects.get(username="load-province-administrator")
    officer = User.objects.get(username="load-province-officer")
    counselor = User.objects.get(username="load-province-counselor")
    assert admin.office.code == "load-province" and has_role(admin, Role.ADMINISTRATOR)
    assert has_role(officer, Role.OFFICER) and has_role(counselor, Role.COUNSELOR)
    assert Person.objects.visible_to(admin).count() == 60
    office_persons = Person.objects.filter(office=officer.office)
    assert set(Person.objects.filter(case_officer=officer)) == set(office_persons)
    caseload = Person.objects.visible_to(counselor)
    today = timezone.localdate()
    current = Person.objects.filter(supervision_start__lte=today, supervision_end__gte=today)
    assert caseload.count() == min(150, current.count()) > 0
    assert set(caseload) <= set(current)
    in_office = current.filter(office=officer.office)
    assert set(in_office) <= set(caseload) or caseload.count() == 150
