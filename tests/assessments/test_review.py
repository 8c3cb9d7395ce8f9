from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import Review
from assessments.norms import reliable_change
from assessments.taking import AssessmentError, do_review
from audit.models import AccessEvent, Action
from lib.pdf import pdf_document
from tests.assessments.helpers import submitted
from tests.factories import login_staff, make_person
from tests.pdfs import official_pdf_text

pytestmark = pytest.mark.django_db


def detail_url(result) -> str:
    return reverse("assessments_result_detail", args=[result.pk])


def caseload_person(org):
    return make_person(org.east, counselors=(org.counselor,))


def test_the_queue_puts_critical_first_then_severity_then_the_oldest(org, client):
    mild_old = submitted(caseload_person(org), [1] * 5 + [0] * 4)  # 5: mild
    severe = submitted(caseload_person(org), [3] * 8 + [0])  # 24: severe
    critical_minimal = submitted(caseload_person(org), [0] * 8 + [1])  # 1 + item 9
    mild_new = submitted(caseload_person(org), [1] * 6 + [0] * 3)  # 6: mild
    submitted(org.other_person, [3] * 9)  # another counselor's caseload
    reviewed = submitted(caseload_person(org), [3] * 9)
    do_review(reviewed, org.counselor, "Seen.")

    login_staff(client, org.counselor)
    response = client.get(reverse("assessments_review_queue"))
    assert response.status_code == 200
    assert [r.pk for r in response.context["results"]] == [
        critical_minimal.pk,
        severe.pk,
        mild_old.pk,
        mild_new.pk,
    ]


def test_the_queue_query_count_does_not_grow_with_its_length(org, client):
    login_staff(client, org.counselor)
    url = reverse("assessments_review_queue")
    submitted(caseload_person(org), [1] * 9)
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for _ in range(6):
        submitted(caseload_person(org), [0] * 8 + [1])
    client.get(url)  # the new alerts' notices dropped the cached unread count: refill it
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert len(response.context["results"]) == 7
    assert len(large) == len(small)
    assert len(large) <= 12


def test_the_result_page_shows_profile_answers_history_and_reliable_change(org, client):
    submitted(org.person, [0] * 9, org.counselor)
    result = submitted(org.person, [2] * 8 + [0], org.counselor)  # 0 → 16
    login_staff(client, org.counselor)
    client.cookies["django_language"] = "en"
    response = client.get(detail_url(result))
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-testid="profile"' in text and "Moderately severe" in text
    assert 'data-testid="answers"' in text and "More than half the days" in text
    # the history chart, drawn on the server: a point per result
    chart = text.split('data-testid="history-chart"', 1)[1].split("</svg>", 1)[0]
    assert chart.count("<circle") == 2
    row = response.context["profile"][0]
    assert row.change.rci == pytest.approx(16 / (3.52 * 2**0.5 * (1 - 0.84) ** 0.5), abs=0.01)
    assert "reliable increase" in text
    assert "Screening, not a diagnosis." in text


def test_reliable_change_is_not_available_without_a_recorded_norm(org, client):
    submitted(org.person, [0] * 10, org.counselor, slug="k10")
    result = submitted(org.person, [4] * 10, org.counselor, slug="k10")
    login_staff(client, org.counselor)
    client.cookies["django_language"] = "en"
    response = client.get(detail_url(result))
    assert response.context["profile"][0].change is None
    assert "not available" in response.content.decode()
    assert reliable_change("k10", "total", 10, 50) is None


def test_reliable_change_index_follows_jacobson_and_truax():
    change = reliable_change("gad7", "total", 10, 9)
    assert not change.reliable and change.direction == "none"
    change = reliable_change("gad7", "total", 15, 3)
    assert change.reliable and change.direction == "down"


def test_the_counselor_signs_an_interpretation_and_releases_a_summary(org, client):
    result = submitted(org.person, [1] * 9, org.counselor)
    login_staff(client, org.counselor)
    response = client.post(
        detail_url(result),
        {"action": "review", "interpretation": "Mild.", "released_summary": "Keep walking."},
    )
    assert response.status_code == 302
    review = Review.objects.get()
    assert (review.counselor, review.interpretation, review.released_summary) == (
        org.counselor,
        "Mild.",
        "Keep walking.",
    )
    assert review.signed_at is not None
    assert b'data-testid="review-form"' not in client.get(detail_url(result)).content
    with pytest.raises(AssessmentError, match="already been reviewed"):
        do_review(result, org.counselor, "Again.")


def test_only_the_persons_counselor_can_sign_and_not_with_an_empty_text(org):
    result = submitted(org.person, [1] * 9, org.counselor)
    with pytest.raises(AssessmentError, match="counselors"):
        do_review(result, org.other_counselor, "Not mine.")
    with pytest.raises(AssessmentError, match="empty"):
        do_review(result, org.counselor, "  ")
    assert not Review.objects.exists()


def test_the_pdf_report_is_a_real_pdf_and_its_download_is_logged(org, client):
    result = submitted(org.person, [1] * 9, org.counselor)
    do_review(result, org.counselor, "轻度，建议随访。", "保持规律作息。")
    login_staff(client, org.counselor)
    assert client.get(reverse("assessments_result_pdf", args=[result.pk])).status_code == 405
    response = client.post(reverse("assessments_result_pdf", args=[result.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    body = response.content
    assert body.startswith(b"%PDF")
    assert body.count(b"/Type /Page\n") + body.count(b"/Type /Page ") >= 1
    # Every font embedded as a subset, no raw codes (tests/pdfs.py); the instrument's
    # literature reference is in English, so English words are allowed.
    text = official_pdf_text(body, chinese=False)
    assert org.person.full_name in text and "轻度，建议随访。" in text
    event = AccessEvent.objects.filter(action=Action.EXPORT).get()
    assert (event.object_type, event.object_id, event.person_id) == (
        "assessments.result",
        str(result.pk),
        org.person.pk,
    )


def test_the_pdf_helper_renders_chinese_text_and_tables():
    body = pdf_document("报告", [("heading", "量表"), ("text", "中文<>&"), ("table", [["a", 1]])])
    assert body.startswith(b"%PDF") and b"%%EOF" in body[-10:]


def test_a_counselor_assigns_from_own_caseload_only(org, client):
    from assessments.models import Assignment, Instrument
    from tests.assessments.helpers import load

    load("gad7")
    login_staff(client, org.counselor)
    url = reverse("assessments_assign")
    form = client.get(url).context["form"]
    assert list(form.fields["person"].queryset) == [org.person]
    instrument = Instrument.objects.get(slug="gad7")
    response = client.post(
        url, {"instrument": instrument.pk, "person": org.other_person.pk, "reason": "ad_hoc"}
    )
    assert response.status_code == 200 and not Assignment.objects.exists()
    response = client.post(
        url,
        {"instrument": instrument.pk, "person": org.person.pk, "reason": "intake", "due": ""},
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get()
    assert (assignment.person, assignment.assigned_by, assignment.reason) == (
        org.person,
        org.counselor,
        "intake",
    )


def test_the_queue_names_the_most_severe_band_not_a_number(org, client):
    severe = submitted(caseload_person(org), [3] * 8 + [0])  # 24: severe
    minimal = submitted(caseload_person(org), [0] * 9)  # 0: minimal
    login_staff(client, org.counselor)
    response = client.get(reverse("assessments_review_queue"))
    bands = dict(response.context["rows"])
    assert bands[severe] == "重度"
    assert bands[minimal] == "无或极轻微"
    text = response.content.decode()
    assert "最严重分级" in text
    assert '<td data-testid="queue-band">重度</td>' in text


def test_the_result_page_names_the_critical_item_by_its_question(org, client):
    result = submitted(caseload_person(org), [0] * 8 + [1])  # item 9 answered
    login_staff(client, org.counselor)
    text = client.get(detail_url(result)).content.decode()
    assert "危机条目：第 9 题“有不如死掉或用某种方式伤害自己的念头”" in text
    assert "危机条目：9<" not in text
