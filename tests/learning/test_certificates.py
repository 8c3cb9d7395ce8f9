from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from audit.models import AccessEvent, Action
from learning import certificates, quizzes
from learning.certificate_pdf import certificate_pdf, quoted_title
from learning.certificates import (
    ALPHABET,
    do_issue_certificate,
    format_code,
    new_code,
    normalize_code,
)
from learning.heartbeat import store
from learning.models import Certificate, Enrollment, LessonProgress
from people.names import mask_name
from people.privacy import collect_person_data
from tests.factories import login_staff
from tests.learning.builders import RIGHT, lessons_of, make_course
from tests.pdfs import official_pdf_text

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)
TAB = "tab-certific"


def study(person, lesson, seconds: int, start=T0):
    for step in range(0, seconds + 1, 15):
        store.do_record_heartbeat(person, lesson, TAB, start + dt.timedelta(seconds=step))


def completed_course(person, lessons: int = 1):
    """A published course ``person`` is enrolled in, with every lesson marked complete."""
    course = make_course(lessons=lessons, quiz=False, expected=60)
    Enrollment.objects.create(person=person, course=course)
    for lesson in lessons_of(course):
        LessonProgress.objects.create(
            person=person, lesson=lesson, credited_seconds=60, completed_at=T0
        )
    return course


# --- Codes and names (pure) -----------------------------------------------------------------


def test_a_new_code_is_12_crockford_characters_and_codes_differ():
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 12
        assert set(code) <= set(ALPHABET)
        assert not set(code) & set("ILOU")


@given(st.text(alphabet=ALPHABET, min_size=12, max_size=12))
def test_a_formatted_code_reads_back_in_any_case(code):
    shown = format_code(code)
    assert shown.count("-") == 2 and len(shown) == 14
    assert normalize_code(shown) == code
    assert normalize_code(shown.lower()) == code
    assert normalize_code(shown.replace("-", " ")) == code


def test_look_alike_letters_are_read_as_digits():
    assert normalize_code("ABCD-EFGH-JKMO") == "ABCDEFGHJKM0"
    assert normalize_code("abcd efgh jkmi") == "ABCDEFGHJKM1"
    assert normalize_code("ABCD-EFGH-JKML") == "ABCDEFGHJKM1"


@pytest.mark.parametrize(
    "text",
    ["", "ABCD", "ABCD-EFGH-JKMNP", "ABCD-EFGH-JKM!", "ABCD-EFGH-JKMU", "<script>", "x" * 5000],
)
def test_anything_else_is_not_a_code(text):
    assert normalize_code(text) is None


@given(st.text(max_size=40))
def test_normalize_never_fails_and_returns_a_valid_code_or_none(text):
    code = normalize_code(text)
    assert code is None or (len(code) == 12 and set(code) <= set(ALPHABET))


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三明", "张*明"), ("张三", "张*"), ("欧阳小明", "欧**明"), ("李", "*"), ("", "*")],
)
def test_names_are_masked_but_first_and_last_character(name, masked):
    assert mask_name(name) == masked


@given(st.text(min_size=3, max_size=30).filter(lambda s: len("".join(s.split())) >= 3))
def test_a_masked_name_shows_at_most_two_characters_of_the_name(name):
    chars = "".join(name.split())
    masked = mask_name(name)
    assert len(masked) == len(chars)
    assert masked[0] == chars[0] and masked[-1] == chars[-1]
    assert set(masked[1:-1]) == {"*"}


# --- Issue ----------------------------------------------------------------------------------


def test_completing_the_last_lesson_issues_the_certificate_once(org):
    course = make_course(lessons=2, quiz=True, expected=60)
    Enrollment.objects.create(person=org.person, course=course)
    first, second = lessons_of(course)
    study(org.person, first, 60)
    quizzes.do_submit_quiz(org.person, first, RIGHT, now=T0 + dt.timedelta(seconds=70))
    assert not Certificate.objects.exists()  # one lesson of two

    later = T0 + dt.timedelta(minutes=10)
    study(org.person, second, 60, start=later)
    quizzes.do_submit_quiz(org.person, second, RIGHT, now=later + dt.timedelta(seconds=70))
    certificate = Certificate.objects.get()
    assert certificate.person == org.person
    assert certificate.course_id == course.pk
    assert certificate.completed_at == later + dt.timedelta(seconds=70)
    assert certificate.person_name == "张三"
    assert certificate.office_name == org.east.name
    assert certificate.course_title == course.title
    assert certificate.credit_hours == course.credit_hours

    study(org.person, second, 30, start=later + dt.timedelta(minutes=5))  # more study later
    assert Certificate.objects.count() == 1


def test_an_incomplete_course_issues_nothing(org):
    course = make_course(lessons=2, quiz=False, expected=60)
    Enrollment.objects.create(person=org.person, course=course)
    study(org.person, lessons_of(course)[0], 60)
    assert LessonProgress.objects.filter(completed_at__isnull=False).count() == 1
    assert do_issue_certificate(org.person, course) is None
    assert not Certificate.objects.exists()


def test_a_course_without_lessons_issues_nothing(org):
    course = make_course(lessons=0)
    assert do_issue_certificate(org.person, course) is None


def test_issuing_again_returns_the_same_certificate(org):
    course = completed_course(org.person)
    first = do_issue_certificate(org.person, course)
    again = do_issue_certificate(org.person, course)
    assert first is not None and again.pk == first.pk and again.code == first.code
    assert Certificate.objects.count() == 1


def test_a_racing_issue_returns_the_winners_certificate(org, monkeypatch):
    """Another request issued the certificate between our check and our insert."""
    course = completed_course(org.person)
    real = certificates.completed_at
    winner = {}

    def completed_then_raced(person, course_):
        value = real(person, course_)
        winner["c"] = Certificate.objects.create(
            person=person,
            course=course_,
            code="WINNER000000",
            person_name="x",
            course_title="x",
            credit_hours=1,
            office_name="x",
            completed_at=value,
            issued_at=value,
        )
        return value

    monkeypatch.setattr(certificates, "completed_at", completed_then_raced)
    certificate = do_issue_certificate(org.person, course)
    assert certificate.pk == winner["c"].pk
    assert Certificate.objects.count() == 1


def test_a_taken_code_is_drawn_again(org, monkeypatch):
    taken = do_issue_certificate(org.person, completed_course(org.person))
    codes = iter([taken.code, "NEWC0DE00000"])
    monkeypatch.setattr(certificates, "new_code", lambda: next(codes))
    fresh = do_issue_certificate(org.person, completed_course(org.person))
    assert fresh.code == "NEWC0DE00000"


def test_the_database_refuses_a_second_certificate_for_a_course(org):
    course = completed_course(org.person)
    do_issue_certificate(org.person, course)
    with pytest.raises(IntegrityError):
        Certificate.objects.create(
            person=org.person,
            course=course,
            code=new_code(),
            person_name="x",
            course_title="x",
            credit_hours=1,
            office_name="x",
            completed_at=T0,
            issued_at=T0,
        )


def test_renaming_the_course_later_does_not_change_the_certificate(org):
    course = completed_course(org.person)
    certificate = do_issue_certificate(org.person, course)
    title = course.title
    course.title = "Renamed"
    course.save_revision().publish()
    certificate.refresh_from_db()
    assert certificate.course_title == title


# --- The learner's download -----------------------------------------------------------------


def test_the_learner_downloads_their_certificate_as_pdf(client, org):
    course = completed_course(org.person)
    certificate = do_issue_certificate(org.person, course)
    client.force_login(org.learner)
    response = client.get(reverse("learning_certificate", args=[course.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="certificate-{certificate.code}.pdf"'
    )
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF") and b"%%EOF" in response.content[-10:]


def test_a_completed_course_without_a_certificate_gets_one_on_download(client, org):
    course = completed_course(org.person)
    client.force_login(org.learner)
    assert client.get(reverse("learning_certificate", args=[course.pk])).status_code == 200
    assert Certificate.objects.filter(person=org.person, course=course).count() == 1
    client.get(reverse("learning_certificate", args=[course.pk]))
    assert Certificate.objects.count() == 1


def test_an_incomplete_course_has_no_certificate_to_download(client, org):
    course = make_course(lessons=1, quiz=False)
    Enrollment.objects.create(person=org.person, course=course)
    client.force_login(org.learner)
    assert client.get(reverse("learning_certificate", args=[course.pk])).status_code == 404
    assert not Certificate.objects.exists()


@pytest.mark.parametrize(
    "role", ["other_learner", "officer", "counselor", "administrator", "lecturer", "outsider"]
)
def test_nobody_else_downloads_a_learners_certificate_from_the_learner_url(client, org, role):
    course = completed_course(org.person)
    do_issue_certificate(org.person, course)
    login_staff(client, getattr(org, role))
    assert client.get(reverse("learning_certificate", args=[course.pk])).status_code == 404


def test_anonymous_is_sent_to_sign_in_for_a_certificate(client, org):
    course = completed_course(org.person)
    response = client.get(reverse("learning_certificate", args=[course.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_pdf_says_who_what_when_where_and_how_to_check(rf, org):
    course = completed_course(org.person)
    certificate = do_issue_certificate(org.person, course)
    request = rf.get("/", HTTP_HOST="testserver")
    url = certificates.verification_url(certificate, request)
    assert url == f"http://testserver/verify/{certificate.code}/"
    # Every font embedded as a subset, the Chinese text extracts, no English word or raw code.
    text = official_pdf_text(certificate_pdf(certificate, url), data=[course.title])
    for expected in (
        "结业证书",
        "兹证明",
        "张三",
        f"完成《{course.title}》课程",
        "特发此证",
        org.east.name,
        "（盖章）",
        "扫码查验",
        f"验证码：{format_code(certificate.code)}",
        url,
        "2026年",
    ):
        assert expected in text
    assert org.person.case_number not in text


@pytest.mark.parametrize(
    ("title", "chinese", "english"),
    [
        ("心理健康", "心理健康", "心理健康"),
        ("《心理健康》", "心理健康", "心理健康"),
        ("《社区矫正法》要点", "〈社区矫正法〉要点", "《社区矫正法》要点"),
        ("“Anger” at work", "“Anger” at work", "“Anger” at work"),
        ("“Basics”", "Basics", "Basics"),
    ],
)
def test_a_course_title_is_quoted_once_with_nested_marks_in_chinese(title, chinese, english):
    assert quoted_title(title, "完成《%(course)s》课程") == chinese
    assert quoted_title(title, "the course “%(course)s”") == english


def test_the_certificate_never_doubles_the_book_title_marks(rf, org):
    course = completed_course(org.person)
    certificate = do_issue_certificate(org.person, course)
    certificate.course_title = "《社区矫正法》要点"
    text = official_pdf_text(certificate_pdf(certificate, "http://testserver/verify/x/"))
    assert "完成《〈社区矫正法〉要点》课程" in text.replace("\n", "")
    assert "《《" not in text and "》》" not in text


def test_the_learners_course_card_and_course_page_offer_the_certificate(client, org):
    done = completed_course(org.person)
    open_course = make_course(lessons=1, quiz=False)
    Enrollment.objects.create(person=org.person, course=open_course)
    client.force_login(org.learner)
    home = client.get("/").text
    assert f'data-testid="certificate-{done.pk}"' in home
    assert reverse("learning_certificate", args=[done.pk]) in home
    assert f'data-testid="certificate-{open_course.pk}"' not in home
    assert reverse("learning_certificate", args=[done.pk]) in client.get(done.url).text
    assert "learning/certificates/" not in client.get(open_course.url).text


# --- Staff download -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["officer", "counselor", "administrator"])
def test_staff_with_the_person_in_scope_download_it_and_it_is_logged(client, org, role):
    certificate = do_issue_certificate(org.person, completed_course(org.person))
    login_staff(client, getattr(org, role))
    url = reverse("learning_certificate_staff", args=[certificate.pk])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    event = AccessEvent.objects.get(action=Action.EXPORT)
    assert event.person_id == org.person.pk
    assert event.object_type == "learning.certificate"
    assert event.username == role


@pytest.mark.parametrize("role", ["other_officer", "other_counselor", "lecturer"])
def test_staff_without_the_person_get_404_and_a_logged_denial(client, org, role):
    certificate = do_issue_certificate(org.person, completed_course(org.person))
    login_staff(client, getattr(org, role))
    response = client.post(reverse("learning_certificate_staff", args=[certificate.pk]))
    assert response.status_code == 404
    denial = AccessEvent.objects.get(action=Action.DENIED)
    assert denial.person_id == org.person.pk and not denial.success


def test_learners_cannot_use_the_staff_download(client, org):
    certificate = do_issue_certificate(org.person, completed_course(org.person))
    client.force_login(org.learner)
    response = client.post(reverse("learning_certificate_staff", args=[certificate.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- Public verification --------------------------------------------------------------------


def test_verification_shows_course_date_and_masked_name(org):
    course = completed_course(org.person)
    certificate = do_issue_certificate(org.person, course)
    response = Client().get(f"/verify/{format_code(certificate.code)}/")
    assert response.status_code == 200
    page = response.text
    assert 'data-testid="certificate-valid"' in page
    assert "张*" in page
    assert "张三" not in page
    assert org.person.case_number not in page
    assert org.east.name not in page
    assert course.title in page
    assert timezone.localtime(certificate.completed_at).strftime("%Y-%m-%d") in page


def test_verification_accepts_the_code_as_typed(org):
    certificate = do_issue_certificate(org.person, completed_course(org.person))
    typed = format_code(certificate.code).lower().replace("0", "o").replace("1", "l")
    assert Client().get(f"/verify/{typed}/").status_code == 200


@pytest.mark.parametrize(
    "code", ["ABCD-EFGH-JKMN", "x", "ABCD%20EFGH", "%E5%BC%A0", "A" * 200, "'%3Bdrop", "..."]
)
def test_an_unknown_or_malformed_code_gets_a_friendly_404(code):
    response = Client().get(f"/verify/{code}/")
    assert response.status_code == 404
    assert 'data-testid="certificate-not-found"' in response.text


def test_the_verification_page_needs_no_sign_in_and_few_queries(org, django_assert_max_num_queries):
    certificate = do_issue_certificate(org.person, completed_course(org.person))
    client = Client()
    client.get(f"/verify/{certificate.code}/")
    with django_assert_max_num_queries(3):
        assert client.get(f"/verify/{certificate.code}/").status_code == 200


# --- Subject-access export ------------------------------------------------------------------


def test_certificates_are_part_of_the_persons_data_export(org):
    certificate = do_issue_certificate(org.person, completed_course(org.person))
    data = collect_person_data(org.person)
    assert "certificates" in data["export"]["sections"]
    assert data["certificates"][0]["verification_code"] == format_code(certificate.code)
    assert data["certificates"][0]["course"] == certificate.course_title


# --- Revocation -----------------------------------------------------------------------------


def revoke_url(certificate) -> str:
    return reverse("learning_certificate_revoke", args=[certificate.pk])


@pytest.fixture
def certificate(org):
    return do_issue_certificate(org.person, completed_course(org.person))


@pytest.mark.usefixtures("english")
def test_an_administrator_revokes_with_a_reason_and_it_is_logged(client, org, certificate):
    login_staff(client, org.administrator)
    page = client.get(revoke_url(certificate))
    assert page.status_code == 200 and 'data-testid="revoke-form"' in page.text
    response = client.post(revoke_url(certificate), {"reason": "学习记录系冒名完成"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"?course={certificate.course_id}")
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None
    assert certificate.revoked_by == org.administrator
    assert certificate.revoked_reason == "学习记录系冒名完成"
    event = AccessEvent.objects.get(action=Action.CHANGE, object_type="learning.certificate")
    assert event.person_id == org.person.pk and event.username == "administrator"
    assert "学习记录系冒名完成" in event.detail
    # the enrollment list says so, and offers no second revocation
    listing = client.get(reverse("learning_enrollment_list")).text
    assert f'data-testid="certificate-revoked-{certificate.pk}"' in listing
    assert f'data-testid="revoke-{certificate.pk}"' not in listing


@pytest.mark.usefixtures("english")
def test_a_reason_is_required_and_nothing_changes_without_it(client, org, certificate):
    login_staff(client, org.administrator)
    for data in ({}, {"reason": "   "}, {"reason": "x" * 301}):
        response = client.post(revoke_url(certificate), data)
        assert response.status_code == 400
    certificate.refresh_from_db()
    assert certificate.revoked_at is None
    assert not AccessEvent.objects.filter(action=Action.CHANGE).exists()
    with pytest.raises(certificates.CertificateError, match="Say why"):
        certificates.do_revoke_certificate(certificate, org.administrator, " ")


@pytest.mark.usefixtures("english")
def test_revoking_twice_is_a_clear_error(client, org, certificate):
    certificates.do_revoke_certificate(certificate, org.administrator, "first")
    first = Certificate.objects.get(pk=certificate.pk).revoked_at
    with pytest.raises(certificates.CertificateError, match="already revoked"):
        certificates.do_revoke_certificate(certificate, org.administrator, "second")
    login_staff(client, org.administrator)
    response = client.post(revoke_url(certificate), {"reason": "second"})
    assert response.status_code == 400
    assert "already revoked" in response.text and 'data-testid="already-revoked"' in response.text
    certificate.refresh_from_db()
    assert certificate.revoked_at == first and certificate.revoked_reason == "first"
    assert AccessEvent.objects.filter(action=Action.CHANGE).count() == 1


@pytest.mark.parametrize(
    "role", ["officer", "counselor", "lecturer", "editor", "other_officer", "other_counselor"]
)
def test_other_staff_cannot_revoke(client, org, certificate, role):
    login_staff(client, getattr(org, role))
    for response in (
        client.get(revoke_url(certificate)),
        client.post(revoke_url(certificate), {"reason": "no"}),
    ):
        assert response.status_code in (302, 403)
        if response.status_code == 302:  # Wagtail's "permission denied" redirect
            assert response["Location"] == "/admin/"
    assert Certificate.objects.get(pk=certificate.pk).revoked_at is None
    assert AccessEvent.objects.filter(action=Action.DENIED, username=role).exists()
    with pytest.raises(certificates.CertificateError):
        certificates.do_revoke_certificate(certificate, getattr(org, role), "no")
    assert Certificate.objects.get(pk=certificate.pk).revoked_at is None


def test_an_administrator_of_another_bureau_gets_404(client, org, certificate):
    from people.models import Office, OfficeKind
    from people.roles import Role
    from tests.factories import make_user

    other = Office.add_root(name="另一个司法局", code="other-bureau", kind=OfficeKind.BUREAU)
    stranger = make_user("stranger_admin", Role.ADMINISTRATOR, office=other)
    login_staff(client, stranger)
    assert client.post(revoke_url(certificate), {"reason": "no"}).status_code == 404
    assert Certificate.objects.get(pk=certificate.pk).revoked_at is None
    assert AccessEvent.objects.get(action=Action.DENIED).person_id == org.person.pk


@pytest.mark.parametrize("role", ["learner", "other_learner", "outsider"])
def test_non_staff_are_sent_to_the_admin_sign_in(client, org, certificate, role):
    client.force_login(getattr(org, role))
    response = client.post(revoke_url(certificate), {"reason": "no"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Certificate.objects.get(pk=certificate.pk).revoked_at is None


@pytest.mark.usefixtures("english")
def test_the_public_check_says_revoked_with_the_date_but_not_the_reason(org, certificate):
    certificates.do_revoke_certificate(certificate, org.administrator, "冒名顶替完成学习")
    certificate.refresh_from_db()
    response = Client().get(f"/verify/{certificate.code}/")
    assert response.status_code == 200
    page = response.text
    assert 'data-testid="certificate-revoked"' in page
    assert 'data-testid="certificate-valid"' not in page
    assert "This certificate has been revoked" in page
    assert timezone.localtime(certificate.revoked_at).strftime("%Y-%m-%d") in page
    assert "冒名顶替" not in page and "administrator" not in page


@pytest.mark.usefixtures("english")
def test_the_learner_is_told_kindly_instead_of_getting_the_pdf(client, org, certificate):
    certificates.do_revoke_certificate(certificate, org.administrator, "冒名顶替完成学习")
    client.force_login(org.learner)
    response = client.get(reverse("learning_certificate", args=[certificate.course_id]))
    assert response.status_code == 410
    assert response["Content-Type"].startswith("text/html")
    assert 'data-testid="certificate-revoked-notice"' in response.text
    assert "talk to your officer" in response.text
    assert "冒名顶替" not in response.text


@pytest.mark.usefixtures("english")
def test_the_staff_pdf_of_a_revoked_certificate_says_so(rf, org, certificate):
    certificates.do_revoke_certificate(certificate, org.administrator, "reason")
    certificate.refresh_from_db()
    content = certificate_pdf(certificate, "http://testserver/verify/x/")
    text = official_pdf_text(content, chinese=False)
    assert "REVOKED on" in text and "Certificate of completion" in text
    assert "reason" not in text
    data = collect_person_data(org.person)
    assert data["certificates"][0]["revoked_reason"] == "reason"
