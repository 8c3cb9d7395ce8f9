"""Excused absences through the pages: the person's phone pages, the staff queue in the admin,
the evidence download, and who gets what."""

from __future__ import annotations

import pytest
from django.utils import timezone

from audit.models import AccessEvent, Action
from lib.months import month_start
from participation import absences
from participation.models import AbsenceRequest, AbsenceStatus, ParticipationRecord
from tests.factories import login_staff
from tests.participation.test_absences import (
    PDF_BYTES,
    evidence_dir,  # noqa: F401 - fixture
    file_quota,
    image_bytes,
    quota_key,
    stored_files,
    supervised,  # noqa: F401 - fixture
    upload,
)

pytestmark = pytest.mark.django_db

MINE, NEW = "/learning/absences/", "/learning/absences/new/"
QUEUE = "/admin/absences/"


def choice() -> str:
    return f"{month_start(timezone.localdate()):%Y-%m}|{quota_key()}"


@pytest.fixture
def pending(supervised, evidence_dir):  # noqa: F811
    return file_quota(supervised, evidence=upload(image_bytes()))


def _as(client, user):
    login_staff(client, user)
    return client


# --- The person's pages ---------------------------------------------------------------------


def test_the_learner_files_a_request_with_a_photo(client, org, supervised, evidence_dir):  # noqa: F811
    client.force_login(org.learner)
    page = client.get(NEW).content.decode()
    assert choice() in page and 'accept="application/pdf,image/jpeg,image/png"' in page
    response = client.post(
        NEW, {"requirement": choice(), "reason": "住院", "evidence": upload(image_bytes())}
    )
    assert response.status_code == 302 and response["Location"] == MINE
    absence = AbsenceRequest.objects.get()
    assert absence.evidence_type == "image/png" and absence.filed_by == org.learner
    page = client.get(MINE).content.decode()
    assert f'data-testid="absence-{absence.pk}"' in page


def test_the_form_preselects_the_requirement_from_a_link(client, org, supervised):  # noqa: F811
    client.force_login(org.learner)
    page = client.get(f"{NEW}?requirement={quota_key()}").content.decode()
    assert f'value="{choice()}" selected' in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"requirement": "2099-01|quota:2099-01", "reason": "x"}, "has not started yet"),
        ({"requirement": "garbage", "reason": "x"}, "Please choose what you need leave for"),
        ({"requirement": "{month}|lecture:424242", "reason": "x"}, "not one of the things"),
        ({"requirement": "{choice}", "reason": "x", "exe": True}, "Only a PDF, JPEG or PNG"),
    ],
    ids=["future", "malformed", "not-theirs", "renamed-exe"],
)
def test_bad_input_gets_a_clear_message_and_nothing_is_stored(
    client,
    org,
    supervised,  # noqa: F811
    evidence_dir,  # noqa: F811
    english,
    data,
    message,
):
    client.force_login(org.learner)
    data = dict(data)
    data["requirement"] = data["requirement"].format(
        month=f"{month_start(timezone.localdate()):%Y-%m}", choice=choice()
    )
    if data.pop("exe", False):
        data["evidence"] = upload(b"MZ\x90\x00" + b"\x00" * 100, "病历.png", "image/png")
    response = client.post(NEW, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AbsenceRequest.objects.exists() and stored_files(evidence_dir) == []


def test_the_learner_withdraws_and_sees_the_status(client, org, pending, english):
    client.force_login(org.learner)
    response = client.post(f"/learning/absences/{pending.pk}/withdraw/")
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == AbsenceStatus.WITHDRAWN
    assert "Withdrawn" in client.get(MINE).content.decode()


@pytest.mark.parametrize("who", ["other_learner", "officer", "outsider"])
def test_nobody_else_withdraws_or_sees_a_learners_request(client, org, pending, who):
    _as(client, getattr(org, who))
    assert client.post(f"/learning/absences/{pending.pk}/withdraw/").status_code == 404
    assert client.get(f"/learning/absences/{pending.pk}/evidence/").status_code == 404
    pending.refresh_from_db()
    assert pending.status == AbsenceStatus.PENDING


@pytest.mark.parametrize("who", ["officer", "administrator", "counselor", "outsider"])
def test_the_learner_pages_are_for_supervised_persons_only(client, org, who):
    _as(client, getattr(org, who))
    assert client.get(MINE).status_code == 404
    assert client.get(NEW).status_code == 404


def test_anonymous_users_sign_in_first(client):
    assert client.get(MINE)["Location"].startswith("/accounts/login/")


def test_the_learner_sees_own_evidence_and_the_look_is_logged(client, org, pending):
    client.force_login(org.learner)
    response = client.get(f"/learning/absences/{pending.pk}/evidence/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert b"".join(response.streaming_content) == image_bytes()
    event = AccessEvent.objects.filter(action=Action.VIEW).latest("pk")
    assert event.user_id == org.learner.pk and event.detail == "absence evidence"


def test_evidence_is_never_under_media_url(pending, settings):
    """The private storage lives outside MEDIA_ROOT, so nothing there is reachable by URL."""
    from pathlib import Path

    from django.core.files.storage import storages

    private = Path(storages["private"].location).resolve()
    media = Path(settings.MEDIA_ROOT).resolve()
    assert media not in private.parents and private != media
    assert media not in Path(pending.evidence.path).resolve().parents


def test_the_home_page_offers_leave(client, org, supervised):  # noqa: F811
    from cms.models import HomePage

    client.force_login(org.learner)
    home = HomePage.objects.first()
    if home is None:
        pytest.skip("no home page in this database")
    assert 'data-testid="absence-entry"' in client.get(home.url).content.decode()


# --- Staff: queue, detail, evidence, decision -----------------------------------------------


@pytest.mark.parametrize("who", ["officer", "administrator"])
def test_handlers_see_the_queue_and_the_request(client, org, pending, who):
    _as(client, getattr(org, who))
    page = client.get(QUEUE).content.decode()
    assert f'data-testid="open-absence-{pending.pk}"' in page
    # the attachment is named in words: an emoji shows as an empty box without an emoji font
    assert 'data-testid="has-evidence"' in page and "📎" not in page
    detail = client.get(f"/admin/absences/{pending.pk}/")
    assert detail.status_code == 200
    assert 'data-testid="evidence-image"' in detail.content.decode()
    evidence = client.get(f"/admin/absences/{pending.pk}/evidence/?download=1")
    assert evidence.status_code == 200 and "attachment" in evidence["Content-Disposition"]
    assert AccessEvent.objects.filter(
        action=Action.VIEW, user_id=getattr(org, who).pk, detail="absence evidence"
    ).exists()


def test_the_menu_shows_the_pending_count(client, org, pending, english):
    _as(client, org.officer)
    assert "Leave requests (1)" in client.get("/admin/").content.decode()


def test_an_officer_of_another_office_gets_404_and_a_logged_denial(client, org, pending):
    _as(client, org.other_officer)
    assert f"open-absence-{pending.pk}" not in client.get(QUEUE).content.decode()
    for url in (f"/admin/absences/{pending.pk}/", f"/admin/absences/{pending.pk}/evidence/"):
        assert client.get(url).status_code == 404
    response = client.post(f"/admin/absences/{pending.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 404
    pending.refresh_from_db()
    assert pending.status == AbsenceStatus.PENDING
    assert AccessEvent.objects.filter(
        action=Action.DENIED, person_id=pending.person_id, user_id=org.other_officer.pk
    ).exists()


@pytest.mark.parametrize("who", ["counselor", "lecturer", "editor"])
def test_other_staff_are_refused_and_logged(client, org, pending, who):
    _as(client, getattr(org, who))
    for url in (QUEUE, f"/admin/absences/{pending.pk}/", f"/admin/absences/{pending.pk}/evidence/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/admin/"
    client.post(f"/admin/absences/{pending.pk}/decide/", {"decision": "approve"})
    pending.refresh_from_db()
    assert pending.status == AbsenceStatus.PENDING
    assert AccessEvent.objects.filter(action=Action.DENIED, user_id=getattr(org, who).pk).exists()


def test_the_officer_approves_and_a_second_decision_is_refused(client, org, pending, english):
    _as(client, org.officer)
    url = f"/admin/absences/{pending.pk}/decide/"
    response = client.post(url, {"decision": "approve", "note": "", "makeup": "on"})
    assert response.status_code == 302 and response["Location"] == QUEUE
    pending.refresh_from_db()
    assert pending.status == AbsenceStatus.APPROVED
    assert ParticipationRecord.objects.filter(requirement_key=quota_key()).exists()
    again = client.post(url, {"decision": "reject", "note": "改主意"})
    assert again.status_code == 200
    assert "already been decided" in again.content.decode()
    pending.refresh_from_db()
    assert pending.status == AbsenceStatus.APPROVED


def test_rejecting_without_a_note_is_refused(client, org, pending, english):
    _as(client, org.officer)
    response = client.post(f"/admin/absences/{pending.pk}/decide/", {"decision": "reject"})
    assert response.status_code == 200 and "short note" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == AbsenceStatus.PENDING


def test_the_officer_files_for_a_person(client, org, supervised, evidence_dir):  # noqa: F811
    _as(client, org.officer)
    found = client.get(QUEUE, {"case": supervised.case_number})
    assert found["Location"] == f"/admin/absences/person/{supervised.pk}/new/"
    response = client.post(
        found["Location"],
        {
            "requirement": choice(),
            "reason": "本人住院，家属代报",
            "evidence": upload(PDF_BYTES, "a.pdf"),
        },
    )
    absence = AbsenceRequest.objects.get()
    assert response["Location"] == f"/admin/absences/{absence.pk}/"
    assert absence.filed_by == org.officer and absence.evidence_type == "application/pdf"


def test_the_other_officer_cannot_file_for_the_person(client, org, supervised):  # noqa: F811
    _as(client, org.other_officer)
    assert client.get(f"/admin/absences/person/{supervised.pk}/new/").status_code == 404
    found = client.get(QUEUE, {"case": supervised.case_number})
    assert found.status_code == 200  # "no such person in your offices"


def _other_pending(org):
    """A pending request of the west office's person, supervised like ``supervised``."""
    other = org.other_person
    other.supervision_start, other.supervision_end = (
        org.person.supervision_start,
        org.person.supervision_end,
    )
    other.save(update_fields=["supervision_start", "supervision_end"])
    return file_quota(other)


def test_queue_search_office_filter_status_and_order(client, org, pending):
    west = _other_pending(org)
    _as(client, org.administrator)
    mine, theirs = f"open-absence-{pending.pk}", f"open-absence-{west.pk}"
    html = client.get(QUEUE, {"q": org.other_person.case_number}).content.decode()
    assert theirs in html and mine not in html
    html = client.get(QUEUE, {"office": org.east.pk}).content.decode()
    assert mine in html and theirs not in html
    up = client.get(QUEUE, {"ordering": "filed_at"}).content.decode()
    down = client.get(QUEUE, {"ordering": "-filed_at"}).content.decode()
    assert up.index(mine) < up.index(theirs) and down.index(theirs) < down.index(mine)
    absences.do_decide_absence(pending, by=org.administrator, approve=True, note="")
    decided = client.get(QUEUE, {"status": "decided"}).content.decode()
    assert mine in decided and theirs not in decided
    waiting = client.get(QUEUE, {"status": "nonsense"}).content.decode()  # the default
    assert theirs in waiting and mine not in waiting


def test_queue_of_another_office_shows_nothing_of_this_one(client, org, pending):
    _other_pending(org)
    _as(client, org.other_officer)
    for params in ({}, {"q": org.person.case_number}, {"office": org.east.pk}):
        html = client.get(QUEUE, params).content.decode()
        assert f"open-absence-{pending.pk}" not in html, params
    results = client.get("/admin/absences/results/", {"q": org.person.case_number})
    assert f"open-absence-{pending.pk}" not in results.content.decode()


def test_queue_export_is_logged_and_for_administrators_only(client, org, pending):
    _as(client, org.administrator)
    before = AccessEvent.objects.filter(action=Action.EXPORT).count()
    response = client.get(QUEUE, {"export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert org.person.case_number in body and "是" in body  # the evidence, as a word
    assert "<span" not in body
    assert AccessEvent.objects.filter(action=Action.EXPORT).count() == before + 1
    _as(client, org.officer)
    refused = client.get(QUEUE, {"export": "csv"})
    assert refused.status_code in (302, 403) and not refused.get("Content-Disposition")


def test_the_queue_runs_a_fixed_number_of_queries(
    client,
    org,
    supervised,  # noqa: F811
    django_assert_max_num_queries,
):
    from tests.factories import make_person

    for _ in range(12):
        person = make_person(org.east)
        person.supervision_start, person.supervision_end = (
            supervised.supervision_start,
            supervised.supervision_end,
        )
        person.save()
        file_quota(person)
    _as(client, org.officer)
    client.get(QUEUE)  # warm up sessions and caches
    with django_assert_max_num_queries(20):
        response = client.get(QUEUE)
    assert response.content.decode().count('data-testid="open-absence-') == 12
    assert absences.pending_count(org.officer) == 12


# --- Fuzzing the filing form: never a 5xx, nothing invalid stored --------------------------


def test_random_posts_never_crash_and_store_only_valid_files(
    client,
    org,
    supervised,  # noqa: F811
    evidence_dir,  # noqa: F811
):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    client.force_login(org.learner)
    heads = st.sampled_from([b"", b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"MZ"])
    requirement = st.one_of(st.just(choice()), st.text(max_size=30))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(requirement, st.text(max_size=50), heads, st.binary(max_size=64), st.booleans())
    def post(value, reason, head, tail, with_file):
        data = {"requirement": value, "reason": reason}
        if with_file:
            data["evidence"] = upload(head + tail, "x.png", "image/png")
        response = client.post(NEW, data)
        assert response.status_code in (200, 302)

    post()
    post_valid = client.post(
        NEW, {"requirement": choice(), "reason": "住院", "evidence": upload(image_bytes())}
    )
    assert post_valid.status_code in (200, 302)
    rows = list(AbsenceRequest.objects.all())
    assert len(rows) <= 1
    assert len(stored_files(evidence_dir)) == sum(bool(r.evidence) for r in rows)
    assert all(r.evidence_type in ("", "image/png") for r in rows)


def test_the_queue_and_the_request_name_the_quota_in_the_officers_language(
    client, org, pending, english
):
    # ``pending`` was filed in Chinese: its stored title is "…学习 … 小时".
    assert "学习" in pending.requirement
    _as(client, org.officer)
    month = f"{pending.period:%Y-%m}"
    for url in (QUEUE, f"/admin/absences/{pending.pk}/"):
        page = client.get(url).content.decode()
        assert pending.requirement not in page, url
        assert f"Study quota of {month}" in page, url
