"""Automatic schedules: intake, every few months, before the end (assessments/schedules.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.models import Assignment, AssignmentStatus, ScheduleRule, loaded_questionnaires
from assessments.schedules import (
    Occurrence,
    RuleSpec,
    add_months,
    do_apply_schedules,
    due_occurrences,
    occurrence_order,
    occurrences,
)
from notifications.models import Notification
from ops import tasks
from people.models import PersonStatus
from tests.assessments.helpers import answer_all, assign, load
from tests.factories import login_staff, make_person

D = dt.date
DEFAULT = [RuleSpec("intake", 7), RuleSpec("periodic", 14, 3), RuleSpec("exit", 30)]


# --- Dates (pure) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2026, 1, 15), 1, D(2026, 2, 15)),
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # leap year
        (D(2028, 2, 29), 12, D(2029, 2, 28)),
        (D(2028, 2, 29), 48, D(2032, 2, 29)),
        (D(2026, 11, 30), 3, D(2027, 2, 28)),
        (D(2026, 12, 15), 1, D(2027, 1, 15)),
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(day, months, expected):
    assert add_months(day, months) == expected


@given(st.dates(D(1990, 1, 1), D(2090, 1, 1)), st.integers(-60, 60))
def test_add_months_moves_whole_months_and_never_overshoots(day, months):
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day <= day.day
    if moved.day < day.day:  # clamped: it is the last day of its month
        assert (moved + dt.timedelta(days=1)).day == 1


def o(trigger, opens, due):
    return Occurrence(trigger, opens, due)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (  # a year: intake, three periodic screens, exit
            D(2026, 1, 1),
            D(2027, 1, 1),
            [
                o("intake", D(2026, 1, 1), D(2026, 1, 8)),
                o("periodic", D(2026, 4, 1), D(2026, 4, 15)),
                o("periodic", D(2026, 7, 1), D(2026, 7, 15)),
                o("periodic", D(2026, 10, 1), D(2026, 10, 15)),
                o("exit", D(2026, 12, 2), D(2027, 1, 1)),
            ],
        ),
        (  # the October screen would open inside the exit window: exit covers it
            D(2026, 1, 1),
            D(2026, 10, 15),
            [
                o("intake", D(2026, 1, 1), D(2026, 1, 8)),
                o("periodic", D(2026, 4, 1), D(2026, 4, 15)),
                o("periodic", D(2026, 7, 1), D(2026, 7, 15)),
                o("exit", D(2026, 9, 15), D(2026, 10, 15)),
            ],
        ),
        (  # shorter than the exit window: exit opens on the first day
            D(2026, 1, 1),
            D(2026, 1, 20),
            [
                o("intake", D(2026, 1, 1), D(2026, 1, 8)),
                o("exit", D(2026, 1, 1), D(2026, 1, 20)),
            ],
        ),
        (  # one day: nothing reaches past the end
            D(2026, 5, 5),
            D(2026, 5, 5),
            [o("intake", D(2026, 5, 5), D(2026, 5, 5)), o("exit", D(2026, 5, 5), D(2026, 5, 5))],
        ),
        (  # leap day start: periodic dates clamp, and count from the start (no drift)
            D(2028, 2, 29),
            D(2029, 6, 1),
            [
                o("intake", D(2028, 2, 29), D(2028, 3, 7)),
                o("periodic", D(2028, 5, 29), D(2028, 6, 12)),
                o("periodic", D(2028, 8, 29), D(2028, 9, 12)),
                o("periodic", D(2028, 11, 29), D(2028, 12, 13)),
                o("periodic", D(2029, 2, 28), D(2029, 3, 14)),
                o("exit", D(2029, 5, 2), D(2029, 6, 1)),
            ],
        ),
        (  # month-end start: 30 Nov → 28 Feb → 30 May, not 28 May
            D(2026, 11, 30),
            D(2027, 7, 31),
            [
                o("intake", D(2026, 11, 30), D(2026, 12, 7)),
                o("periodic", D(2027, 2, 28), D(2027, 3, 14)),
                o("periodic", D(2027, 5, 30), D(2027, 6, 13)),
                o("exit", D(2027, 7, 1), D(2027, 7, 31)),
            ],
        ),
        (D(2026, 5, 5), D(2026, 5, 4), []),  # end before start: nothing
    ],
)
def test_occurrences_of_the_default_rules(start, end, expected):
    assert occurrences(DEFAULT, start, end) == expected


def test_a_window_is_due_from_the_day_it_opens_to_its_due_day():
    start, end = D(2026, 1, 1), D(2027, 1, 1)
    assert due_occurrences(DEFAULT, start, end, D(2025, 12, 31)) == []
    assert [x.trigger for x in due_occurrences(DEFAULT, start, end, D(2026, 1, 1))] == ["intake"]
    assert [x.trigger for x in due_occurrences(DEFAULT, start, end, D(2026, 1, 8))] == ["intake"]
    assert due_occurrences(DEFAULT, start, end, D(2026, 1, 9)) == []
    assert [x.due for x in due_occurrences(DEFAULT, start, end, D(2026, 4, 10))] == [D(2026, 4, 15)]
    assert [x.trigger for x in due_occurrences(DEFAULT, start, end, D(2027, 1, 1))] == ["exit"]


rule_specs = st.lists(
    st.one_of(
        st.builds(RuleSpec, st.just("intake"), st.integers(1, 365)),
        st.builds(RuleSpec, st.just("exit"), st.integers(1, 365)),
        st.builds(RuleSpec, st.just("periodic"), st.integers(1, 365), st.integers(1, 24)),
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    rule_specs,
    st.dates(D(2020, 1, 1), D(2035, 12, 31)),
    st.integers(0, 3 * 366),
    st.integers(-10, 4 * 366),
)
def test_every_window_lies_inside_the_supervision(rules, start, length, offset):
    end = start + dt.timedelta(days=length)
    found = occurrences(rules, start, end)
    assert found == sorted(found, key=occurrence_order)
    covered = [(x.opens, x.due) for x in found if x.trigger != "periodic"]
    for x in found:
        assert start <= x.opens <= x.due <= end
        if x.trigger == "periodic":
            assert not any(low <= x.opens <= high for low, high in covered)
    today = start + dt.timedelta(days=offset)
    for x in due_occurrences(rules, start, end, today):
        assert x in found and x.opens <= today <= x.due


# --- Applying (database) -----------------------------------------------------------------------


def scheduled(person, **filters):
    return list(
        Assignment.objects.filter(person=person, **filters)
        .order_by("instrument_version__instrument__slug")
        .values_list("instrument_version__instrument__slug", "reason", "due", "assigned_by")
    )


@pytest.fixture
def loaded(db):
    load("phq9", "gad7")


@pytest.mark.django_db
def test_intake_is_assigned_on_the_first_day_and_the_learner_is_told(org, loaded):
    report = do_apply_schedules(D(2026, 1, 1))
    due = D(2026, 1, 8)
    assert scheduled(org.person) == [
        ("gad7", "intake", due, None),
        ("phq9", "intake", due, None),
    ]
    assert report.created == 4  # both persons of the org start on 1 January
    notes = Notification.objects.filter(recipient=org.learner, kind="assignment")
    assert notes.count() == 2
    note = notes.first()
    assignment = Assignment.objects.get(pk=int(note.url.strip("/").split("/")[-1]))
    assert note.url == reverse("assessments_take", args=[assignment.pk])
    assert "2026-01-08" in note.body


@pytest.mark.django_db
def test_applying_again_the_same_day_or_later_in_the_window_makes_nothing_new(org, loaded):
    do_apply_schedules(D(2026, 1, 1))
    for day in (D(2026, 1, 1), D(2026, 1, 3), D(2026, 1, 8)):
        report = do_apply_schedules(day)
        assert report.created == 0 and report.already_assigned == 4
    assert Assignment.objects.count() == 4
    assert Notification.objects.filter(kind="assignment").count() == 4


@pytest.mark.django_db
def test_an_answered_or_cancelled_scheduled_questionnaire_is_not_assigned_again(org, loaded):
    do_apply_schedules(D(2026, 1, 2))
    phq9 = Assignment.objects.get(person=org.person, instrument_version__instrument__slug="phq9")
    answer_all(phq9, [0] * 9)
    from assessments.taking import do_submit

    do_submit(phq9)
    gad7 = Assignment.objects.get(person=org.person, instrument_version__instrument__slug="gad7")
    gad7.status = AssignmentStatus.CANCELLED
    gad7.save(update_fields=["status"])
    assert do_apply_schedules(D(2026, 1, 5)).created == 0
    assert Assignment.objects.filter(person=org.person).count() == 2


@pytest.mark.django_db
def test_a_questionnaire_still_open_is_not_assigned_twice(org, loaded):
    assign(org.person, org.counselor, "phq9")  # ad hoc, not yet answered
    report = do_apply_schedules(D(2026, 1, 1))
    assert [row[:2] for row in scheduled(org.person)] == [("gad7", "intake"), ("phq9", "ad_hoc")]
    assert report.still_open == 1


@pytest.mark.django_db
def test_periodic_and_exit_windows_assign_with_their_due_dates(org, loaded):
    do_apply_schedules(D(2026, 4, 1))
    assert scheduled(org.person) == [
        ("gad7", "periodic", D(2026, 4, 15), None),
        ("phq9", "periodic", D(2026, 4, 15), None),
    ]
    Assignment.objects.update(status=AssignmentStatus.SUBMITTED)
    do_apply_schedules(D(2026, 12, 2))
    assert scheduled(org.person, reason="exit") == [
        ("gad7", "exit", D(2027, 1, 1), None),
        ("phq9", "exit", D(2027, 1, 1), None),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "day", [D(2025, 12, 31), D(2026, 1, 9), D(2026, 3, 31), D(2027, 1, 2)], ids=str
)
def test_nothing_is_assigned_outside_a_window_or_the_supervision(org, loaded, day):
    assert do_apply_schedules(day).created == 0
    assert not Assignment.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_only_active_persons_with_a_counselor_and_an_account_are_scheduled(org, loaded):
    no_counselor = make_person(org.east)
    org.other_person.status = PersonStatus.ENDED
    org.other_person.save(update_fields=["status"])
    locked_out = make_person(org.east, counselors=(org.counselor,))
    locked_out.user.is_active = False
    locked_out.user.save(update_fields=["is_active"])
    do_apply_schedules(D(2026, 1, 1))
    persons = set(Assignment.objects.values_list("person_id", flat=True))
    assert persons == {org.person.pk}
    assert no_counselor.pk not in persons


@pytest.mark.django_db
def test_rules_are_data_inactive_and_unloaded_ones_are_skipped(org, loaded):
    ScheduleRule.objects.filter(instrument_slug="gad7").update(active=False)
    ScheduleRule.objects.create(instrument_slug="k10", trigger="intake", window_days=10)
    report = do_apply_schedules(D(2026, 1, 1))
    assert [row[:2] for row in scheduled(org.person)] == [("phq9", "intake")]
    assert report.unknown_instruments == {"k10"}
    load("k10")
    do_apply_schedules(D(2026, 1, 1))
    assert ("k10", "intake", D(2026, 1, 11), None) in scheduled(org.person)


@pytest.mark.django_db
def test_the_default_schedule_is_phq9_and_gad7_at_intake_every_three_months_and_before_exit():
    rules = set(
        ScheduleRule.objects.values_list(
            "instrument_slug", "trigger", "window_days", "interval_months", "active"
        )
    )
    assert rules == {
        (slug, trigger, window, interval, True)
        for slug in ("phq9", "gad7")
        for trigger, window, interval in (
            ("intake", 7, None),
            ("periodic", 14, 3),
            ("exit", 30, None),
        )
    }


@pytest.mark.django_db
def test_the_command_applies_the_schedule_for_a_given_day(org, loaded, capsys):
    call_command("apply_assessment_schedules", "--date", "2026-01-01")
    assert "2026-01-01: 4 assignment(s) created" in capsys.readouterr().out
    call_command("apply_assessment_schedules", "--date", "2026-01-01")
    assert "0 assignment(s) created, 4 already assigned" in capsys.readouterr().out


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["2026-02-30", "yesterday", "20260101x"])
def test_the_command_refuses_a_bad_date_and_changes_nothing(org, loaded, bad):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("apply_assessment_schedules", "--date", bad)
    assert not Assignment.objects.exists()


# --- Editing the schedule in the admin ---------------------------------------------------------


@pytest.mark.django_db
def test_an_administrator_adds_a_rule_in_the_admin(org, loaded, client):
    load("k10")
    login_staff(client, org.administrator)
    url = reverse("assessments_schedule:add")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "instrument_slug": "k10",
            "trigger": "periodic",
            "window_days": 10,
            "interval_months": 6,
            "active": "on",
        },
    )
    assert response.status_code == 302
    rule = ScheduleRule.objects.get(instrument_slug="k10")
    assert (rule.trigger, rule.window_days, rule.interval_months) == ("periodic", 10, 6)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {"instrument_slug": "nosuch", "trigger": "intake", "window_days": 7},
        {"instrument_slug": "k10", "trigger": "periodic", "window_days": 7},
        {"instrument_slug": "k10", "trigger": "intake", "window_days": 7, "interval_months": 3},
        {"instrument_slug": "k10", "trigger": "intake", "window_days": 0},
        {"instrument_slug": "k10", "trigger": "intake", "window_days": 400},
        {"instrument_slug": "phq9", "trigger": "intake", "window_days": 7},  # exists already
    ],
)
def test_a_bad_rule_is_refused_with_a_reason_and_nothing_is_saved(org, loaded, client, data):
    load("k10")
    before = ScheduleRule.objects.count()
    login_staff(client, org.administrator)
    response = client.post(reverse("assessments_schedule:add"), data)
    assert response.status_code == 200  # the form again, with errors
    assert ScheduleRule.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["counselor", "officer", "lecturer"])
def test_only_administrators_edit_the_schedule(org, client, name):
    login_staff(client, getattr(org, name))
    response = client.get(reverse("assessments_schedule:index"))
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert response["Location"] == "/admin/"


# --- Planned retests: the person is told on the day one opens -------------------------------


@pytest.mark.django_db
def test_a_planned_retest_is_announced_by_the_daily_job_on_its_day_and_only_once(org, loaded):
    ScheduleRule.objects.update(active=False)  # only the retest: no schedule rule applies
    retest = assign(
        org.person, org.counselor, opens_on=D(2026, 3, 11), due=D(2026, 3, 25), reason="periodic"
    )
    inbox = Notification.objects.filter(recipient=org.learner, kind="assignment")
    assert do_apply_schedules(D(2026, 3, 10)).opened == 0
    assert not inbox.exists()  # not before its day: the learner could not open it yet

    report = do_apply_schedules(D(2026, 3, 11))
    assert report.opened == 1
    note = inbox.get()
    assert note.url == reverse("assessments_take", args=[retest.pk])
    assert "2026-03-25" in note.body
    assert do_apply_schedules(D(2026, 3, 11)).opened == 0
    assert do_apply_schedules(D(2026, 3, 12)).opened == 0
    assert inbox.count() == 1


@pytest.mark.django_db
def test_a_retest_the_job_missed_is_announced_on_its_next_run(org, loaded):
    assign(org.person, org.counselor, opens_on=D(2026, 3, 11), due=D(2026, 3, 25))
    assert do_apply_schedules(D(2026, 3, 14)).opened == 1


@pytest.mark.django_db
def test_an_answered_or_cancelled_retest_is_not_announced(org, loaded):
    retest = assign(org.person, org.counselor, opens_on=D(2026, 3, 11), due=D(2026, 3, 25))
    Assignment.objects.filter(pk=retest.pk).update(status=AssignmentStatus.CANCELLED)
    assert do_apply_schedules(D(2026, 3, 11)).opened == 0
    assert not Notification.objects.filter(recipient=org.learner, kind="assignment").exists()


@pytest.mark.django_db
def test_the_scheduled_job_announces_opened_retests_and_counts_them(org, loaded):
    ScheduleRule.objects.update(active=False)
    today = timezone.localdate()
    assign(org.person, org.counselor, opens_on=today, due=today + dt.timedelta(days=14))
    counts = tasks.apply_assessment_schedules.call()
    assert counts["retests_opened"] == 1
    assert Notification.objects.filter(recipient=org.learner, kind="assignment").count() == 1
    assert tasks.apply_assessment_schedules.call()["retests_opened"] == 0


@pytest.mark.django_db
def test_the_schedule_list_names_each_questionnaire(
    org, loaded, client, django_assert_max_num_queries
):
    ScheduleRule.objects.get_or_create(
        instrument_slug="gad7", trigger="intake", defaults={"window_days": 7}
    )
    login_staff(client, org.administrator)
    html = client.get(reverse("assessments_schedule:index")).content.decode()
    assert "患者健康问卷抑郁量表（PHQ-9）" in html
    assert "广泛性焦虑量表（GAD-7）" in html
    assert ">gad7<" not in html and ">phq9<" not in html
    rules = list(ScheduleRule.objects.with_instrument_title())
    with django_assert_max_num_queries(0):
        assert {r.instrument_name for r in rules} >= {"广泛性焦虑量表（GAD-7）"}


@pytest.mark.django_db
def test_the_rule_form_offers_questionnaires_by_name_not_by_code(org, loaded, client):
    load("k10")
    login_staff(client, org.administrator)
    html = client.get(reverse("assessments_schedule:add")).content.decode()
    assert '<select name="instrument_slug"' in html
    with translation.override("zh-hans"):
        names = dict(loaded_questionnaires())
        rule = ScheduleRule.objects.get_or_create(
            instrument_slug="phq9", trigger="intake", defaults={"window_days": 7}
        )[0]
        label = str(rule)
    assert f'<option value="k10">{names["k10"]}</option>' in html
    assert names["phq9"] in html
    assert label.startswith(names["phq9"]) and "phq9" not in label
    assert str(rule).startswith(names["phq9"]) and "phq9" not in str(rule)
