from __future__ import annotations

import datetime as dt
import json

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from audit.models import AccessEvent, Action
from people import privacy
from people.models import OfficeKind, PrivacyAcknowledgement, PrivacyNotice
from people.privacy import (
    collect_person_data,
    current_notice,
    do_acknowledge,
    has_acknowledged,
    require_privacy_ack,
)
from people.roles import Role
from tests.factories import login_staff, make_person, make_user

pytestmark = pytest.mark.django_db

PRIVACY_URL = "/privacy/"


def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def export_url(person) -> str:
    return reverse("people_person_export", args=[person.pk])


def publish(version: int, **extra) -> PrivacyNotice:
    defaults = {
        "title": f"通知 {version}",
        "title_en": f"Notice {version}",
        "body_zh": "正文",
        "body_en": "Body",
    }
    defaults.update(extra)
    return PrivacyNotice.objects.create(version=version, **defaults)


# --- The notice ---------------------------------------------------------------------------------


def test_version_1_ships_with_the_migration_in_both_languages(db):
    notice = current_notice()
    assert notice is not None and notice.version == 1
    for topic in ("questionnaire", "case officer", "counselor", "six months", "correct"):
        assert topic in notice.body_en
    for topic in ("问卷", "矫正工作人员", "心理咨询师", "六个月", "更正"):
        assert topic in notice.body_zh


def test_notice_is_shown_in_english_with_the_button(client, org):
    client.force_login(org.learner)
    response = english(client).get(PRIVACY_URL)
    assert response.status_code == 200
    assert "How we look after your information" in response.text
    assert "Who can see it" in response.text
    assert 'data-testid="privacy-ack-button"' in response.text
    assert "I have read and understand" in response.text
    assert 'data-notice-version="1"' in response.text


def test_notice_is_shown_in_chinese_by_default(client, org):
    client.force_login(org.learner)
    response = client.get(PRIVACY_URL)
    notice = current_notice()
    assert response.status_code == 200
    assert notice.title in response.text
    assert notice.body_zh.splitlines()[0] in response.text


def test_anonymous_visitor_can_read_but_has_no_button(client, db):
    response = english(client).get(PRIVACY_URL)
    assert response.status_code == 200
    assert 'data-testid="privacy-notice"' in response.text
    assert 'data-testid="privacy-sign-in"' in response.text
    assert "privacy-ack-button" not in response.text


def test_staff_see_the_notice_without_a_button(client, org):
    login_staff(client, org.officer)
    response = english(client).get(PRIVACY_URL)
    assert response.status_code == 200
    assert 'data-testid="privacy-not-learner"' in response.text
    assert "privacy-ack-button" not in response.text


def test_future_versions_are_not_current_yet(db):
    publish(2, published_at=timezone.now() + dt.timedelta(days=1))
    assert current_notice().version == 1


def test_page_without_any_notice_says_so(client, org):
    PrivacyNotice.objects.all().delete()
    client.force_login(org.learner)
    response = english(client).get(PRIVACY_URL)
    assert response.status_code == 200
    assert 'data-testid="privacy-no-notice"' in response.text
    assert client.post(PRIVACY_URL, {"version": "1"}).status_code == 404
    assert not has_acknowledged(org.person)


def test_footer_links_to_the_notice(client, db):
    assert 'data-testid="footer-privacy-link"' in client.get(PRIVACY_URL).text


# --- Acknowledging ------------------------------------------------------------------------------


def test_acknowledgement_is_recorded_once(client, org):
    client.force_login(org.learner)
    for _ in range(2):
        response = client.post(PRIVACY_URL, {"version": "1"}, REMOTE_ADDR="10.1.2.3")
        assert response.status_code == 302
    acks = PrivacyAcknowledgement.objects.filter(person=org.person)
    assert acks.count() == 1
    assert acks.get().notice.version == 1
    assert acks.get().ip == "10.1.2.3"
    assert has_acknowledged(org.person)
    assert not has_acknowledged(org.other_person)
    page = english(client).get(PRIVACY_URL)
    assert 'data-testid="privacy-acknowledged"' in page.text
    assert "privacy-ack-button" not in page.text


def test_do_acknowledge_is_idempotent(org):
    first = do_acknowledge(org.person)
    second = do_acknowledge(org.person)
    assert first.pk == second.pk
    assert PrivacyAcknowledgement.objects.count() == 1


def test_get_changes_nothing(client, org):
    client.force_login(org.learner)
    client.get(PRIVACY_URL, {"version": "1"})
    assert not PrivacyAcknowledgement.objects.exists()


def test_missing_csrf_token_changes_nothing(org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.learner)
    assert client.post(PRIVACY_URL, {"version": "1"}).status_code == 403
    client.cookies["csrftoken"] = "x" * 32
    response = client.post(PRIVACY_URL, {"version": "1", "csrfmiddlewaretoken": "y" * 32})
    assert response.status_code == 403
    assert not PrivacyAcknowledgement.objects.exists()


def test_valid_csrf_token_is_accepted(org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.learner)
    client.get(PRIVACY_URL)
    token = client.cookies["csrftoken"].value
    response = client.post(PRIVACY_URL, {"version": "1", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert PrivacyAcknowledgement.objects.filter(person=org.person).count() == 1


def test_anonymous_post_is_sent_to_sign_in(client, org):
    response = client.post(PRIVACY_URL, {"version": "1"})
    assert response.status_code == 302
    assert "login" in response["Location"]
    assert not PrivacyAcknowledgement.objects.exists()


@pytest.mark.parametrize("role", ["officer", "counselor", "administrator", "lecturer", "outsider"])
def test_staff_cannot_acknowledge_for_a_learner(client, org, role):
    login_staff(client, getattr(org, role))
    for payload in ({"version": "1"}, {"version": "1", "person": org.person.pk}):
        assert client.post(PRIVACY_URL, payload).status_code == 404
    assert not PrivacyAcknowledgement.objects.exists()


def test_learner_acknowledges_only_for_themself(client, org):
    client.force_login(org.learner)
    client.post(PRIVACY_URL, {"version": "1", "person": org.other_person.pk})
    assert list(PrivacyAcknowledgement.objects.values_list("person_id", flat=True)) == [
        org.person.pk
    ]


def test_stale_version_is_not_acknowledged(client, org):
    publish(2)
    client.force_login(org.learner)
    response = client.post(PRIVACY_URL, {"version": "1"})
    assert response.status_code == 302
    assert not PrivacyAcknowledgement.objects.exists()
    client.post(PRIVACY_URL, {"version": "2"})
    assert PrivacyAcknowledgement.objects.get().notice.version == 2


def test_safe_next_is_followed_and_unsafe_next_ignored(client, org):
    client.force_login(org.learner)
    page = client.get(PRIVACY_URL, {"next": "/tests/phq9/"})
    assert 'name="next" value="/tests/phq9/"' in page.text
    response = client.post(PRIVACY_URL, {"version": "1", "next": "/tests/phq9/"})
    assert response["Location"] == "/tests/phq9/"
    client.force_login(org.other_learner)
    response = client.post(PRIVACY_URL, {"version": "1", "next": "https://evil.example/"})
    assert response["Location"] == PRIVACY_URL
    page = client.get(PRIVACY_URL, {"next": "https://evil.example/"}).text
    assert 'value="https://evil' not in page and 'href="https://evil' not in page


# --- require_privacy_ack ------------------------------------------------------------------------


@require_privacy_ack
def tiny_test_view(request):
    return HttpResponse("the test")


def call_tiny_view(user, path="/tests/phq9/?step=1"):
    request = RequestFactory().get(path)
    request.user = user
    return tiny_test_view(request)


def test_require_privacy_ack_redirects_until_acknowledged(org):
    response = call_tiny_view(org.learner)
    assert response.status_code == 302
    assert response["Location"] == "/privacy/?next=%2Ftests%2Fphq9%2F%3Fstep%3D1"
    do_acknowledge(org.person)
    org.learner.refresh_from_db()
    assert call_tiny_view(org.learner).status_code == 200


def test_require_privacy_ack_asks_again_for_a_new_version(org):
    do_acknowledge(org.person)
    assert call_tiny_view(org.learner).status_code == 200
    publish(2)
    assert call_tiny_view(org.learner).status_code == 302


def test_require_privacy_ack_lets_users_without_a_person_through(org):
    assert call_tiny_view(org.counselor).status_code == 200


def test_require_privacy_ack_fails_closed_without_a_notice(org):
    PrivacyNotice.objects.all().delete()
    assert call_tiny_view(org.learner).status_code == 302


# --- Subject-access export ----------------------------------------------------------------------


def test_administrator_exports_everything_about_a_person(client, org):
    do_acknowledge(org.person)
    viewer = Client()
    login_staff(viewer, org.counselor)
    assert viewer.get(reverse("people_person_detail", args=[org.person.pk])).status_code == 200
    viewer.get(reverse("people_person_detail", args=[org.other_person.pk]))

    login_staff(client, org.administrator)
    response = client.post(export_url(org.person))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "no-store" in response["Cache-Control"].split(", ")
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)

    for section in (
        "profile",
        "account",
        "office",
        "case_officer",
        "counselors",
        "caseload_history",
        "privacy_acknowledgements",
        "access_events",
    ):
        assert section in data["export"]["sections"]
    assert data["profile"]["case_number"] == org.person.case_number
    assert data["account"]["username"] == "learner"
    assert "password" not in data["account"]
    assert org.learner.password not in response.content.decode()
    assert data["office"]["name"] == org.east.name
    assert data["office"]["within"] == [org.bureau.name]
    assert data["case_officer"] == {"name": org.officer.get_full_name()}
    assert data["counselors"] == [{"name": org.counselor.get_full_name()}]
    assert data["caseload_history"][0]["counselor"] == org.counselor.get_full_name()
    assert data["privacy_acknowledgements"][0]["notice_version"] == 1

    events = data["access_events"]
    assert any(e["user"] == "counselor" and e["action"] == Action.VIEW for e in events)
    expected = AccessEvent.objects.filter(person_id=org.person.pk, id__lte=events[-1]["id"])
    assert {e["id"] for e in events} == set(expected.values_list("id", flat=True))
    assert not AccessEvent.objects.filter(
        id__in=[e["id"] for e in events], person_id=org.other_person.pk
    ).exists()

    export = AccessEvent.objects.get(action=Action.EXPORT)
    assert export.person_id == org.person.pk
    assert export.username == "administrator"
    assert export.object_type == "people.person"
    assert export.object_id == str(org.person.pk)


def test_export_button_is_shown_only_with_the_permission(client, org):
    detail = reverse("people_person_detail", args=[org.person.pk])
    login_staff(client, org.administrator)
    assert 'data-testid="person-export-button"' in client.get(detail).text
    login_staff(client, org.officer)
    assert "person-export-button" not in client.get(detail).text


def test_export_by_get_is_refused_and_not_logged(client, org):
    login_staff(client, org.administrator)
    assert client.get(export_url(org.person)).status_code == 405
    assert not AccessEvent.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.parametrize("role", ["officer", "counselor", "lecturer", "learner", "outsider"])
def test_other_roles_cannot_export(client, org, role):
    login_staff(client, getattr(org, role))
    response = client.post(export_url(org.person))
    assert response.status_code in (302, 403, 404)
    assert org.person.case_number not in response.content.decode()
    assert not AccessEvent.objects.filter(action=Action.EXPORT).exists()


def test_anonymous_cannot_export(client, org):
    response = client.post(export_url(org.person))
    assert response.status_code == 302
    assert not AccessEvent.objects.filter(action=Action.EXPORT).exists()


def test_administrator_of_another_bureau_gets_404(client, org):
    from people.models import Office

    elsewhere = Office.add_root(name="另一司法局", code="elsewhere", kind=OfficeKind.BUREAU)
    stranger = make_user("elsewhere_admin", Role.ADMINISTRATOR, office=elsewhere)
    make_person(elsewhere)
    login_staff(client, stranger)
    assert client.post(export_url(org.person)).status_code == 404
    assert not AccessEvent.objects.filter(action=Action.EXPORT).exists()
    denied = AccessEvent.objects.filter(action=Action.DENIED, person_id=org.person.pk)
    assert denied.filter(username="elsewhere_admin").exists()


def test_administrator_exports_persons_of_every_office_in_the_bureau(client, org):
    login_staff(client, org.administrator)
    response = client.post(export_url(org.other_person))
    assert response.status_code == 200
    assert json.loads(response.content)["profile"]["case_number"] == org.other_person.case_number


# --- The collector registry ---------------------------------------------------------------------


def collect_extra(person):
    return {"learning": {"hours": 3}}


def collect_clashing(person):
    return {"profile": {}}


def test_later_apps_add_sections_through_the_registry(org, monkeypatch):
    monkeypatch.setattr(
        privacy,
        "PERSON_DATA_COLLECTORS",
        [*privacy.PERSON_DATA_COLLECTORS, collect_extra],
    )
    data = collect_person_data(org.person)
    assert data["learning"] == {"hours": 3}
    assert data["export"]["sections"][-1] == "learning"


def test_a_collector_cannot_overwrite_another_section(org, monkeypatch):
    monkeypatch.setattr(
        privacy,
        "PERSON_DATA_COLLECTORS",
        [*privacy.PERSON_DATA_COLLECTORS, collect_clashing],
    )
    with pytest.raises(ValueError, match="profile"):
        collect_person_data(org.person)


def test_messages_are_translatable(client, org):
    client.force_login(org.learner)
    with override("en"):
        response = english(client).post(PRIVACY_URL, {"version": "1"}, follow=True)
    assert "You have confirmed that you read the privacy notice" in response.text
