"""Plan pages per role: counselors edit their caseload's plans, officers read without scores,
administrators need the explicit permission, learners see and acknowledge their own plan."""

from __future__ import annotations

import json
import re
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation

from audit.models import AccessEvent, Action
from courses.models import Topic
from plans.approval import do_approve_plan
from plans.drafting import do_draft_plan
from plans.models import (
    AppointmentStatus,
    CounselingAppointment,
    IntakeFacts,
    Plan,
    PlanStatus,
)
from plans.pdf import footer, page_label, plan_blocks, plan_pdf, sign_off_labels
from tests.factories import login_staff, make_person
from tests.learning.builders import make_course
from tests.pdfs import official_pdf_text
from tests.plans.helpers import CALM_FACTS, PHQ9_MODERATE, intake, reviewed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def plan(org) -> Plan:
    """learner's draft: unemployed, PHQ-9 moderate (score 10)."""
    intake(org.person, org.officer, employment="unemployed")
    reviewed(org.person, org.counselor, PHQ9_MODERATE)
    return Plan.objects.get(person=org.person, status=PlanStatus.DRAFT)


@pytest.fixture
def approved(org, plan) -> Plan:
    course = make_course(lessons=1, quiz=False)
    course.topic = Topic.MENTAL_HEALTH
    course.save(update_fields=["topic"])
    do_approve_plan(plan, org.counselor)
    plan.refresh_from_db()
    return plan


def staff(client, user):
    login_staff(client, user)
    return client


def detail(plan) -> str:
    return reverse("plans_plan_detail", args=[plan.pk])


# --- Who sees what -------------------------------------------------------------------------------


def test_the_counselor_sees_levels_evidence_and_scores(client, org, plan):
    response = staff(client, org.counselor).get(detail(plan))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="edit-plan"' in body and 'data-testid="approve-plan"' in body
    assert "score 10" in body  # PHQ-9 evidence for the person's own counselor
    assert AccessEvent.objects.filter(
        action=Action.VIEW,
        object_type="plans.plan",
        object_id=str(plan.pk),
        user_id=org.counselor.pk,
    ).exists()


def test_the_officer_sees_levels_and_goals_but_no_scores_or_answers(client, org, plan):
    response = staff(client, org.officer).get(detail(plan))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="need-mental_health"' in body
    assert plan.goals.first().title in body
    assert "score 10" not in body and "PHQ" not in body
    assert "details are for the person" in body
    assert 'data-testid="edit-plan"' not in body and 'data-testid="approve-plan"' not in body
    # nor can the officer change anything
    assert staff(client, org.officer).get(
        reverse("plans_plan_edit", args=[plan.pk])
    ).status_code in (
        302,
        403,
    )
    assert Plan.objects.get(pk=plan.pk).revision == plan.revision


def test_the_officer_sees_retests_as_done_or_not_never_their_scores(client, org, approved):
    from assessments.taking import do_review, do_submit
    from tests.assessments.helpers import answer_all

    retest = approved.goals.get(domain="mental_health").interventions.get(kind="retest")
    answer_all(retest.assignment, [0] * 9)
    do_review(do_submit(retest.assignment), org.counselor, "Better.")
    counselor_view = staff(client, org.counselor).get(detail(approved)).content.decode()
    assert "score 0" in counselor_view and "reliable decrease" in counselor_view
    officer_view = staff(client, org.officer).get(detail(approved)).content.decode()
    assert "Retest answered on" in officer_view
    assert "score 0" not in officer_view and "RCI" not in officer_view


def _history(body: str) -> str:
    return body.split('data-testid="history"', 1)[1].split("</table>", 1)[0]


def test_the_history_names_no_questionnaire_to_the_officer(client, org, approved):
    """Officers read what changed in plain sentences, without which questionnaires the
    person took or their result numbers (the rest of the page's rule)."""
    officer_view = _history(staff(client, org.officer).get(detail(approved)).content.decode())
    assert "phq" not in officer_view.lower()
    assert "Retest of a questionnaire opens" in officer_view  # a retest, not which one
    assert "Patient Health" not in officer_view  # the whole title, brackets and all
    assert "Review of a questionnaire result signed" not in officer_view
    assert "(result" not in officer_view
    assert "Needs reassessed" in officer_view
    assert "Goal added:" in officer_view and "Next review:" in officer_view

    counselor_view = _history(staff(client, org.counselor).get(detail(approved)).content.decode())
    assert "Retest of Patient Health Questionnaire (PHQ-9) opens" in counselor_view
    assert "Review of a questionnaire result signed (result" in counselor_view


@pytest.mark.parametrize("who", ["counselor", "officer"])
def test_the_history_is_sentences_never_a_raw_dict(client, org, approved, who):
    from plans.followup import do_record_review

    goal = approved.goals.get(domain="mental_health")
    decisions = {g.pk: "continue" for g in approved.goals.filter(status__in=["open", "adjusted"])}
    decisions[goal.pk] = "close"
    do_record_review(approved, org.counselor, decisions, met={goal.pk}, notes="")
    body = staff(client, getattr(org, who)).get(detail(approved)).content.decode()
    history = _history(body)
    assert "{&#x27;" not in history and "&#x27;:" not in history and "{" not in history
    assert "put_in_place" not in history and "retests_cancelled" not in history
    assert f"Goal “{goal.title}”: closed, target met" in history
    assert "Retest cancelled: " in history
    if who == "officer":
        assert "phq" not in history.lower()


@pytest.mark.parametrize("who", ["other_counselor", "other_officer"])
def test_staff_outside_the_scope_get_404_and_a_logged_denial(client, org, plan, who):
    user = getattr(org, who)
    assert staff(client, user).get(detail(plan)).status_code == 404
    assert AccessEvent.objects.filter(
        action=Action.DENIED, object_type="plans.plan", person_id=org.person.pk, user_id=user.pk
    ).exists()
    assert staff(client, user).post(reverse("plans_plan_pdf", args=[plan.pk])).status_code == 404


@pytest.mark.parametrize("who", ["lecturer", "administrator"])
def test_lecturers_and_administrators_without_the_permission_are_refused(client, org, plan, who):
    client = staff(client, getattr(org, who))
    for url in (reverse("plans_plan_list"), detail(plan)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].endswith("/admin/")
    assert AccessEvent.objects.filter(action=Action.DENIED, user_id=getattr(org, who).pk).exists()


def test_an_administrator_with_the_explicit_permission_sees_the_bureau_without_scores(
    client, org, plan
):
    org.administrator.user_permissions.add(
        Permission.objects.get(content_type__app_label="plans", codename="view_bureau_plans")
    )
    body = staff(client, org.administrator).get(detail(plan)).content.decode()
    assert 'data-testid="needs"' in body and "score 10" not in body
    assert 'data-testid="edit-plan"' not in body


@pytest.mark.parametrize("who", ["learner", "other_learner", "outsider"])
def test_people_without_staff_roles_never_reach_the_admin_pages(client, org, plan, who):
    login_staff(client, getattr(org, who))
    response = client.get(detail(plan))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_list_shows_own_caseload_at_a_fixed_number_of_queries(
    client, org, django_assert_max_num_queries
):
    client = staff(client, org.counselor)
    do_draft_plan(org.person, org.counselor, "first")
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("plans_plan_list"))
    for _ in range(12):
        person = make_person(org.east, counselors=(org.counselor,))
        do_draft_plan(person, org.counselor, "more")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("plans_plan_list"))
    body = response.content.decode()
    assert body.count('data-testid="plan-link-') == 13
    assert org.other_person.case_number not in body


# --- Editing in the admin ------------------------------------------------------------------------


def edit_data(plan, **overrides) -> dict:
    data = {
        "revision": plan.revision,
        "reason": "talked it through",
        "phase": plan.phase,
        "support_intensity": plan.support_intensity,
        "intensity_explanation": plan.intensity_explanation,
    }
    for goal in plan.goals.all():
        data.update(
            {
                f"g{goal.pk}_domain": goal.domain,
                f"g{goal.pk}_title": goal.title,
                f"g{goal.pk}_target": goal.target,
                f"g{goal.pk}_due": goal.due.isoformat(),
            }
        )
        for intervention in goal.interventions.all():
            for name, value in intervention.details.items():
                if name != "kind":
                    data[f"i{intervention.pk}_{name}"] = value
    data.update(overrides)
    return data


def test_the_counselor_edits_a_goal_and_adds_one(client, org, plan):
    client = staff(client, org.counselor)
    goal = plan.goals.get(domain="employment")
    response = client.post(
        reverse("plans_plan_edit", args=[plan.pk]),
        edit_data(
            plan,
            **{
                f"g{goal.pk}_target": "三个月内参加 2 次招聘会",
                "new_domain": "family",
                "new_title": "每周给母亲打电话",
                "new_target": "每周至少 1 次",
                "new_due": "2027-03-01",
            },
        ),
    )
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.target == "三个月内参加 2 次招聘会"
    assert plan.goals.filter(title="每周给母亲打电话", domain="family").exists()
    change = plan.changes.first()
    assert change.reason == "talked it through" and change.by == org.counselor


def test_a_stale_save_in_the_admin_is_refused_and_keeps_what_was_typed(client, org, plan):
    client = staff(client, org.counselor)
    stale = edit_data(
        plan, reason="my edit", new_title="我的新目标", new_target="具体目标", new_due="2027-03-01"
    )
    intake(org.person, org.officer, employment="unemployed", housing="none")  # moves the draft on
    response = client.post(reverse("plans_plan_edit", args=[plan.pk]), stale)
    assert response.status_code == 409
    body = response.content.decode()
    assert "not saved" in body and 'value="我的新目标"' in body
    assert not plan.goals.filter(title="我的新目标").exists()


def test_a_new_goal_without_a_target_is_refused_in_the_admin(client, org, plan):
    client = staff(client, org.counselor)
    response = client.post(
        reverse("plans_plan_edit", args=[plan.pk]),
        edit_data(plan, new_title="无目标的目标", new_due="2027-03-01"),
    )
    assert response.status_code == 400
    assert "measurable target is required" in response.content.decode()
    assert not plan.goals.filter(title="无目标的目标").exists()


def test_approval_in_the_admin_needs_the_revision_shown(client, org, plan):
    client = staff(client, org.counselor)
    url = reverse("plans_plan_approve", args=[plan.pk])
    client.post(url)
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.DRAFT
    client.post(url, {"revision": plan.revision})
    assert Plan.objects.get(pk=plan.pk).status == PlanStatus.APPROVED


def test_a_counselor_records_an_appointment_and_a_review(client, org, approved):
    client = staff(client, org.counselor)
    appointment = CounselingAppointment.objects.filter(person=org.person).first()
    client.post(
        reverse("plans_appointment", args=[appointment.pk]), {"status": "attended", "note": "ok"}
    )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.ATTENDED
    goals = list(approved.goals.all())
    form = {"revision": Plan.objects.get(pk=approved.pk).revision, "notes": "steady"}
    form.update({f"d{g.pk}": "continue" for g in goals})
    response = client.post(reverse("plans_plan_review", args=[approved.pk]), form)
    assert response.status_code == 302
    assert approved.reviews.filter(held_at__isnull=False, notes="steady").exists()
    assert (
        staff(client, org.other_counselor)
        .post(reverse("plans_appointment", args=[appointment.pk]), {"status": "missed"})
        .status_code
        == 404
    )


def test_the_officer_records_intake_facts_which_update_the_draft(client, org, plan):
    client = staff(client, org.officer)
    url = reverse("plans_intake", args=[org.person.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {**CALM_FACTS, "housing": "none", "note": "住在朋友家"})
    assert response.status_code == 302
    assert IntakeFacts.objects.latest_for(org.person).housing == "none"
    plan.refresh_from_db()
    assert plan.needs["domains"]["housing"]["level"] == "high"
    bad = client.post(url, {**CALM_FACTS, "housing": "castle"})
    assert bad.status_code == 200 and IntakeFacts.objects.filter(person=org.person).count() == 2
    assert staff(client, org.other_officer).get(url).status_code == 404
    assert staff(client, org.counselor).get(url).status_code == 302  # no add_intakefacts


# --- PDF -----------------------------------------------------------------------------------------


def test_the_pdf_download_is_a_real_pdf_and_is_logged_as_an_export(client, org, approved):
    response = staff(client, org.officer).post(reverse("plans_plan_pdf", args=[approved.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    body = response.content
    assert body.startswith(b"%PDF")
    assert body.count(b"/Type /Page\n") + body.count(b"/Type /Page ") >= 1
    event = AccessEvent.objects.get(action=Action.EXPORT, object_type="plans.plan")
    assert (event.object_id, event.person_id, event.user_id) == (
        str(approved.pk),
        org.person.pk,
        org.officer.pk,
    )
    assert client.get(reverse("plans_plan_pdf", args=[approved.pk])).status_code == 405


def test_the_pdf_document_has_goals_sign_off_lines_and_no_scores(org, approved):
    blocks = plan_blocks(approved)
    text = json.dumps([content for _kind, content in blocks], ensure_ascii=False)
    assert ("signatures", sign_off_labels()) in blocks
    assert approved.goals.first().title in text and org.person.case_number in text
    # No figures: a goal's target may speak of "the score" in words, never of a number.
    assert not re.search(r"score\W*\d", text.lower()) and "PHQ" not in text
    assert "not a diagnosis" in text


def test_the_pdf_reads_in_chinese_with_each_due_date_on_one_line(org, approved):
    # Every font embedded, no raw codes (official_pdf_text); the plan's own texts were written
    # in English by the fixtures, so only the document's words are checked for Chinese.
    with translation.override("zh-hans"):
        content = plan_pdf(approved)
        labels = sign_off_labels()
    text = official_pdf_text(content, chinese=False)
    assert "个别化矫正方案" in text and org.person.full_name in text
    for goal in approved.goals.all():
        assert goal.due.isoformat() in text.split("\n")  # a cell of its own, not a character a line
    for label in [*labels, "各方面需求", "目标与帮扶措施", "截止日期"]:
        assert label in text


def test_every_page_gets_its_number(org):
    canvas = mock.Mock()
    footer("CASE-1 · v2")(canvas, mock.Mock(page=3))
    canvas.drawCentredString.assert_called_once()
    assert canvas.drawCentredString.call_args.args[2] == page_label("CASE-1 · v2", 3)
    assert "page 3" in page_label("CASE-1 · v2", 3)


# --- The person's page ---------------------------------------------------------------------------


def test_the_learner_sees_nothing_until_the_plan_is_approved(client, org, plan):
    client.force_login(org.learner)
    response = client.get(reverse("plans_mine"))
    assert response.status_code == 200
    assert 'data-testid="no-plan"' in response.content.decode()
    assert client.post(reverse("plans_acknowledge")).status_code == 404


def test_the_learner_reads_and_acknowledges_their_plan(client, org, approved):
    client.force_login(org.learner)
    body = client.get(reverse("plans_mine")).content.decode()
    assert approved.goals.first().title in body
    assert not re.search(r"score\W*\d", body.lower())
    assert "PHQ-9" in body  # the retest names the questionnaire
    assert 'data-testid="acknowledge-plan"' in body
    response = client.post(reverse("plans_acknowledge"))
    assert response.status_code == 302
    assert Plan.objects.get(pk=approved.pk).acknowledged_at is not None
    assert 'data-testid="plan-acknowledged"' in client.get(reverse("plans_mine")).content.decode()


def test_another_learner_sees_only_their_own_empty_page(client, org, approved):
    client.force_login(org.other_learner)
    body = client.get(reverse("plans_mine")).content.decode()
    assert approved.goals.first().title not in body
    assert client.post(reverse("plans_acknowledge")).status_code == 404
    assert Plan.objects.get(pk=approved.pk).acknowledged_at is None


def test_staff_and_outsiders_have_no_learner_plan_page(client, org):
    for user in (org.counselor, org.outsider):
        login_staff(client, user)
        assert client.get(reverse("plans_mine")).status_code == 404


# --- Rules ---------------------------------------------------------------------------------------


def test_the_plan_page_costs_the_same_queries_however_many_goals(
    client, org, plan, django_assert_max_num_queries
):
    client = staff(client, org.counselor)
    with django_assert_max_num_queries(60) as before:
        client.get(detail(plan))
    goal = plan.goals.first()
    for n in range(8):
        new = plan.goals.create(
            domain="family", title=f"目标{n}", target="每周一次", due=goal.due, position=10 + n
        )
        for details in (
            {"kind": "counseling", "interval_days": 14, "sessions": 2},
            {"kind": "course", "topic": "legal"},
            {"kind": "retest", "instrument": "phq9", "interval_days": 90},
        ):
            new.interventions.create(kind=details["kind"], details=details)
    with django_assert_max_num_queries(len(before.captured_queries)):
        response = client.get(detail(plan))
    assert response.content.decode().count('data-testid="goal-') == plan.goals.count()


def test_the_learner_page_costs_the_same_queries_however_many_goals(
    client, org, approved, django_assert_max_num_queries
):
    client.force_login(org.learner)
    with django_assert_max_num_queries(40) as before:
        client.get(reverse("plans_mine"))
    goal = approved.goals.first()
    for n in range(6):
        new = approved.goals.create(
            domain="family", title=f"目标{n}", target="每周一次", due=goal.due, position=10 + n
        )
        new.interventions.create(kind="course", details={"kind": "course", "topic": "legal"})
    with django_assert_max_num_queries(len(before.captured_queries)):
        body = client.get(reverse("plans_mine")).content.decode()
    assert "目标5" in body


def test_the_home_page_shows_the_plan_only_once_it_is_approved(client, org, plan):
    client.force_login(org.learner)
    assert 'data-testid="dashboard-plan"' not in client.get("/").content.decode()  # a draft
    course = make_course(lessons=1, quiz=False)
    course.topic = Topic.MENTAL_HEALTH
    course.save(update_fields=["topic"])
    do_approve_plan(plan, org.counselor)
    body = client.get("/").content.decode()
    assert 'data-testid="dashboard-plan"' in body and reverse("plans_mine") in body
    assert "Please read it and confirm" in body
    client.post(reverse("plans_acknowledge"))
    assert "You have read your plan" in client.get("/").content.decode()
    client.force_login(org.other_learner)
    assert 'data-testid="dashboard-plan"' not in client.get("/").content.decode()


def test_the_officers_plan_scope_is_by_office_id_as_every_office_scope(org):
    """``people.models.in_office_subtree``, not a join on the office's path that scans every
    person (bench/bench_staff_pages.py)."""
    from plans.models import plan_persons

    sql = str(plan_persons(org.officer).query)
    assert "people_office" not in sql
    assert set(plan_persons(org.officer)) == {org.person}
