"""Who may see results, answers and alerts (docs/security.md, "Roles matrix")."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from assessments.models import (
    Alert,
    Assignment,
    ImmutableRecordError,
    Response,
    Result,
    Review,
)
from assessments.taking import do_review
from audit.models import AccessEvent, Action
from people.privacy import collect_person_data
from people.roles import ROLE_PERMISSIONS
from tests.assessments.helpers import submitted
from tests.factories import login_staff

pytestmark = pytest.mark.django_db

CRITICAL = [0] * 8 + [2]


@pytest.fixture
def result(org):
    return submitted(org.person, CRITICAL, org.counselor)


def grant_view_result(user):
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="assessments", codename="view_result")
    )


def refused(response) -> bool:
    """403, or Wagtail's way of saying it inside the admin: back to the admin home."""
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"] == "/admin/"
    )


def fresh(user):
    return type(user).objects.get(pk=user.pk)  # no cached permissions or roles


def visible(model, user) -> list:
    return list(model.objects.visible_to(fresh(user)))


def test_only_the_persons_own_counselor_sees_results_answers_and_alerts(org, result):
    for model in (Result, Response, Alert, Assignment):
        assert len(visible(model, org.counselor)) == 1, model
        for name in ("other_counselor", "officer", "lecturer", "administrator", "learner"):
            assert visible(model, getattr(org, name)) == [], (model, name)


def test_no_role_holds_view_result_by_default():
    assert not any("assessments.view_result" in perms for perms in ROLE_PERMISSIONS.values())


def test_an_administrator_with_the_explicit_permission_sees_the_bureaus_results(org, result):
    grant_view_result(org.administrator)
    assert visible(Result, org.administrator) == [result]
    grant_view_result(org.officer)  # the permission alone does not open results to an officer
    assert visible(Result, org.officer) == []


@pytest.mark.parametrize("name", ["officer", "lecturer", "administrator"])
def test_staff_who_never_see_results_are_refused_before_any_lookup(org, result, client, name):
    login_staff(client, getattr(org, name))
    for url in (
        reverse("assessments_result_detail", args=[result.pk]),
        reverse("assessments_review_queue"),
    ):
        assert refused(client.get(url))
    assert refused(client.post(reverse("assessments_result_pdf", args=[result.pk])))
    assert AccessEvent.objects.filter(action=Action.DENIED, success=False).count() == 3
    assert not AccessEvent.objects.filter(action=Action.VIEW, person_id=org.person.pk).exists()


def test_another_counselor_gets_404_and_the_attempt_is_logged(org, result, client):
    login_staff(client, org.other_counselor)
    assert client.get(reverse("assessments_result_detail", args=[result.pk])).status_code == 404
    assert client.post(reverse("assessments_result_pdf", args=[result.pk])).status_code == 404
    denied = AccessEvent.objects.filter(action=Action.DENIED, object_type="assessments.result")
    assert denied.count() == 2
    assert set(denied.values_list("person_id", flat=True)) == {org.person.pk}


def test_an_administrator_is_denied_without_the_permission_and_allowed_with_it(org, result, client):
    login_staff(client, org.administrator)
    url = reverse("assessments_result_detail", args=[result.pk])
    assert refused(client.get(url))
    grant_view_result(org.administrator)
    response = client.get(url)
    assert response.status_code == 200
    assert b'data-testid="review-form"' not in response.content  # counselors sign, not admins


def test_every_view_and_export_of_a_result_is_in_the_access_log(org, result, client):
    login_staff(client, org.counselor)
    url = reverse("assessments_result_detail", args=[result.pk])
    client.get(url)
    client.get(url)
    client.post(reverse("assessments_result_pdf", args=[result.pk]))
    events = AccessEvent.objects.filter(object_type="assessments.result", object_id=str(result.pk))
    assert list(events.order_by("id").values_list("action", "person_id", "username")) == [
        (Action.VIEW, org.person.pk, "counselor"),
        (Action.VIEW, org.person.pk, "counselor"),
        (Action.EXPORT, org.person.pk, "counselor"),
    ]


def test_learners_and_outsiders_never_reach_the_admin_result_pages(org, result, client):
    for user in (org.learner, org.outsider):
        client.force_login(user)
        response = client.get(reverse("assessments_result_detail", args=[result.pk]))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_a_learner_sees_only_their_own_released_summary(org, result):
    do_review(result, org.counselor, "Item 9 positive, follow up.", "We will meet on Monday.")
    assert list(Review.objects.released_to(org.learner)) == [result.review]
    assert list(Review.objects.released_to(org.other_learner)) == []
    assert list(Review.objects.released_to(org.counselor)) == []


def test_results_are_immutable(result):
    result.scales = {}
    with pytest.raises(ImmutableRecordError):
        result.save()
    with pytest.raises(ImmutableRecordError):
        Result.objects.filter(pk=result.pk).update(critical_items=[])
    with pytest.raises(ImmutableRecordError):
        result.delete()


def test_the_subject_access_export_holds_answers_results_alerts_and_reviews(org, result):
    do_review(result, org.counselor, "Follow up.", "See you soon.")
    data = collect_person_data(org.person)
    section = data["assessments"]
    assert section["assignments"][0]["answers"] == CRITICAL
    assert section["results"][0]["critical_items"] == [9]
    assert section["alerts"][0]["result"] == result.pk
    assert section["reviews"][0]["released_summary"] == "See you soon."
