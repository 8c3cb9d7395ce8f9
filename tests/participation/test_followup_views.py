"""The follow-up pages in the Wagtail admin: the officers' list ("People to follow up"), a
follow-up's page with the action form, and the administrators' texts and policy."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from audit.models import AccessEvent
from participation.followup import Step, run_follow_up
from participation.models import (
    FollowUp,
    FollowUpPolicy,
    FollowUpStage,
    ParticipationRecord,
    ParticipationSource,
    ParticipationStatus,
    ReminderKind,
    ReminderTemplate,
)
from tests.factories import login_staff, make_person

FEBRUARY = dt.date(2026, 2, 1)
LIST = "learning_followup_list"


def _study_february(*persons):
    for person in persons:
        ParticipationRecord.objects.create(
            person=person,
            source=ParticipationSource.LESSON,
            requirement_key="lesson:feb",
            period=FEBRUARY,
            minutes=480,
            status=ParticipationStatus.COMPLETED,
        )


@pytest.fixture
def tasks(org):
    """Both learners' March follow-ups with their case officers (run on the 25th and 28th)."""
    _study_february(org.person, org.other_person)
    run_follow_up(dt.date(2026, 3, 25))
    run_follow_up(dt.date(2026, 3, 28))
    return {
        "east": FollowUp.objects.get(person=org.person),
        "west": FollowUp.objects.get(person=org.other_person),
    }


def _get(client, user, name, *args, **params):
    login_staff(client, user)
    return client.get(reverse(name, args=args), params)


# --- The list -------------------------------------------------------------------------------


def test_officer_sees_own_office_tasks_with_what_is_missing(client, org, tasks):
    response = _get(client, org.officer, LIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-testid="followup-{tasks["east"].pk}"' in html
    assert f'data-testid="followup-{tasks["west"].pk}"' not in html
    assert org.person.full_name in html and "2026-03-25" in html
    assert "8.0" in html  # hours still needed


def test_administrator_sees_the_bureau(client, org, tasks):
    html = _get(client, org.administrator, LIST).content.decode()

    assert f'data-testid="followup-{tasks["east"].pk}"' in html
    assert f'data-testid="followup-{tasks["west"].pk}"' in html


def test_filters_show_resolved_and_only_mine(client, org, tasks):
    FollowUp.objects.filter(pk=tasks["east"].pk).update(stage=FollowUpStage.RESOLVED)

    html = _get(client, org.administrator, LIST, show="resolved").content.decode()
    assert f'data-testid="followup-{tasks["east"].pk}"' in html
    assert f'data-testid="followup-{tasks["west"].pk}"' not in html
    html = _get(client, org.administrator, LIST, mine="1", show="bogus").content.decode()
    assert 'data-testid="no-followups"' in html


@pytest.mark.parametrize("role", ["counselor", "lecturer", "editor"])
def test_other_staff_are_refused_and_it_is_logged(client, org, tasks, role):
    response = _get(client, getattr(org, role), LIST)

    assert response.status_code in (302, 403)
    assert org.person.full_name not in response.content.decode()
    assert AccessEvent.objects.filter(action="denied", username=role).exists()


@pytest.mark.parametrize("role", ["learner", "outsider"])
def test_non_staff_go_to_sign_in(client, org, role):
    client.force_login(getattr(org, role))
    response = client.get(reverse(LIST))
    assert response.status_code == 302 and "login" in response["Location"]


def test_list_has_a_fixed_number_of_queries(client, org, tasks, django_assert_max_num_queries):
    login_staff(client, org.administrator)
    client.get(reverse(LIST))  # warm the per-process caches (menu, site)
    # Session, user, roles, two-factor device, menu, scope, count, page, access checks, the
    # office filter's choices.
    with django_assert_max_num_queries(15) as baseline:
        client.get(reverse(LIST))
    for _ in range(12):
        person = make_person(org.east, case_officer=org.officer)
        FollowUp.objects.create(
            person=person,
            period=dt.date(2026, 3, 1),
            requirement_key="quota:2026-03",
            requirement="Study",
            stage=FollowUpStage.OFFICER,
            opened_at=tasks["east"].opened_at,
            officer=org.officer,
        )
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        response = client.get(reverse(LIST))
    assert len(re.findall(r'data-testid="followup-\d+"', response.content.decode())) == 14


def test_other_office_officer_sees_nothing_of_this_office(client, org, tasks):
    for params in ({}, {"show": "open"}, {"q": org.person.case_number}, {"office": org.east.pk}):
        html = _get(client, org.other_officer, LIST, **params).content.decode()
        assert f'data-testid="followup-{tasks["east"].pk}"' not in html, params
    results = client.get(reverse("learning_followup_list_results"), {"show": "open"})
    assert f'data-testid="followup-{tasks["west"].pk}"' in results.content.decode()
    assert f'data-testid="followup-{tasks["east"].pk}"' not in results.content.decode()


def test_search_office_filter_and_order(client, org, tasks):
    login_staff(client, org.administrator)
    east, west = (f'data-testid="followup-{tasks[k].pk}"' for k in ("east", "west"))
    html = client.get(reverse(LIST), {"q": org.other_person.case_number}).content.decode()
    assert west in html and east not in html
    html = client.get(reverse(LIST), {"office": org.east.pk}).content.decode()
    assert east in html and west not in html
    up = client.get(reverse(LIST), {"ordering": "person__full_name"}).content.decode()
    down = client.get(reverse(LIST), {"ordering": "-person__full_name"}).content.decode()
    first = sorted([org.person.full_name, org.other_person.full_name])[0]
    first_id = east if first == org.person.full_name else west
    last_id = west if first_id == east else east
    assert up.index(first_id) < up.index(last_id)
    assert down.index(last_id) < down.index(first_id)


def test_export_is_logged_and_for_administrators_only(client, org, tasks):
    login_staff(client, org.administrator)
    before = AccessEvent.objects.filter(action="export").count()
    response = client.get(reverse(LIST), {"export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[0].startswith("矫正对象,矫正编号,司法所")
    assert org.person.full_name in body and org.other_person.full_name in body
    assert AccessEvent.objects.filter(action="export").count() == before + 1
    login_staff(client, org.officer)
    refused = client.get(reverse(LIST), {"export": "csv"})
    assert refused.status_code in (302, 403) and not refused.get("Content-Disposition")


# --- One follow-up and the action form --------------------------------------------------------


def test_officer_opens_a_follow_up_and_records_an_action(client, org, tasks, english):
    row = tasks["east"]
    url = reverse("learning_followup_detail", args=[row.pk])
    login_staff(client, org.officer)

    page = client.get(url)
    assert page.status_code == 200
    assert "Task given to the case officer" in page.content.decode()
    assert AccessEvent.objects.filter(
        action="view", object_type="participation.followup", person_id=org.person.pk
    ).exists()

    response = client.post(url, {"action": "visited", "note": "Went to see him at home"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.officer_acted_at is not None and "Went to see him at home" in row.officer_note
    assert row.steps.filter(kind=Step.OFFICER_ACTION, actor=org.officer).exists()


def test_bad_action_is_shown_with_a_reason_and_nothing_changes(client, org, tasks, english):
    row = tasks["east"]
    login_staff(client, org.officer)
    url = reverse("learning_followup_detail", args=[row.pk])

    for data in ({}, {"action": "nonsense"}, {"action": "other", "note": ""}):
        response = client.post(url, data)
        assert response.status_code == 200
    assert "Please say in the note what you did." in response.content.decode()
    row.refresh_from_db()
    assert row.officer_acted_at is None


def test_out_of_scope_and_missing_follow_ups_are_404(client, org, tasks):
    login_staff(client, org.officer)
    assert (
        client.get(reverse("learning_followup_detail", args=[tasks["west"].pk])).status_code == 404
    )
    assert (
        client.post(
            reverse("learning_followup_detail", args=[tasks["west"].pk]), {"action": "called"}
        ).status_code
        == 404
    )
    assert client.get(reverse("learning_followup_detail", args=[987654])).status_code == 404
    tasks["west"].refresh_from_db()
    assert tasks["west"].officer_acted_at is None


# --- Reminder texts and policy (administrators) -----------------------------------------------


def test_administrator_sees_default_texts_and_an_unknown_placeholder_is_refused(
    client, org, english
):
    login_staff(client, org.administrator)
    index = client.get(reverse("reminder_texts:index"))
    assert index.status_code == 200
    template = ReminderTemplate.objects.get(kind=ReminderKind.LEARNER_AT_RISK)
    url = reverse("reminder_texts:edit", args=[template.pk])

    response = client.post(
        url, {"kind": template.kind, "title": "Hi {nmae}", "body": "{name}: {month}"}
    )

    assert response.status_code == 200
    assert "Unknown placeholder {nmae}" in response.content.decode()
    template.refresh_from_db()
    assert template.title != "Hi {nmae}"

    response = client.post(
        url, {"kind": template.kind, "title": "Hi {name}", "body": "{requirement} {month}"}
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.title == "Hi {name}" and template.updated_by == org.administrator


def test_administrator_saves_a_policy_within_bounds(client, org, english):
    login_staff(client, org.administrator)
    url = reverse("follow_up_policy:add")

    refused = client.post(
        url, {"at_risk_days_left": 45, "officer_after_days": 3, "administrator_after_days": 5}
    )
    assert refused.status_code == 200 and not FollowUpPolicy.objects.exists()

    saved = client.post(
        url, {"at_risk_days_left": 10, "officer_after_days": 2, "administrator_after_days": 4}
    )
    assert saved.status_code == 302
    policy = FollowUpPolicy.objects.get()
    assert policy.at_risk_days_left == 10 and policy.updated_by == org.administrator


@pytest.mark.parametrize("role", ["officer", "counselor", "lecturer", "editor"])
@pytest.mark.parametrize("name", ["reminder_texts:index", "follow_up_policy:index"])
def test_texts_and_policy_are_refused_to_other_staff(client, org, role, name):
    response = _get(client, getattr(org, role), name)
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert response["Location"].rstrip("/").endswith("/admin")


def test_the_active_filter_reads_a_full_width_colon(client, org, tasks):
    html = _get(client, org.administrator, LIST, show="open").content.decode()
    assert "显示：" in html and "显示:" not in html
