"""Excused absences (participation.absences): filing with evidence, deciding, withdrawing, and what
an approval does to the ledger, the lecture's attendance and the makeups."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from audit.models import AccessEvent, Action
from lib.months import month_start
from live import services as live_services
from live.ledger import ledger_period
from live.models import Attendance, AttendanceStatus, Lecture, Makeup
from notifications.models import Notification
from participation import absences
from participation.absences import AbsenceError
from participation.models import (
    AbsenceRequest,
    AbsenceStatus,
    MonthStatus,
    ParticipationRecord,
    ParticipationSource,
    ParticipationStatus,
)
from participation.requirements import person_month
from tests.factories import login_staff
from tests.live.helpers import make_lecture, past_lecture

pytestmark = pytest.mark.django_db


# --- Fixtures and files (also used by test_absences_views.py) -------------------------------


@pytest.fixture
def evidence_dir(tmp_path, monkeypatch):
    """Evidence goes to a temporary private directory. The field's storage is resolved once at
    import, so pointing ``PRIVATE_MEDIA_ROOT`` elsewhere would not reach it."""
    root = tmp_path / "private"
    root.mkdir()
    field = AbsenceRequest._meta.get_field("evidence")
    monkeypatch.setattr(field, "storage", FileSystemStorage(location=root, base_url=None))
    return root


@pytest.fixture
def supervised(org):
    """``org.person`` under supervision from well before last month to well after this one,
    whatever day the tests run."""
    today = timezone.localdate()
    org.person.supervision_start = today - dt.timedelta(days=120)
    org.person.supervision_end = today + dt.timedelta(days=120)
    org.person.save(update_fields=["supervision_start", "supervision_end"])
    return org.person


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()]


def image_bytes(fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(content: bytes, name: str = "note.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def quota_key(today: dt.date | None = None) -> str:
    return f"quota:{month_start(today or timezone.localdate()):%Y-%m}"


def file_quota(person, by=None, **kwargs) -> AbsenceRequest:
    kwargs.setdefault("reason", "住院治疗")
    return absences.do_file_absence(
        person,
        period=month_start(timezone.localdate()),
        requirement_key=quota_key(),
        by=by or person.user,
        **kwargs,
    )


# --- Filing ---------------------------------------------------------------------------------


def test_the_person_sees_this_and_last_months_open_requirements(supervised):
    options = absences.open_options(supervised)
    keys = {(o.period, o.requirement.key) for o in options}
    this, last = absences.filing_months(timezone.localdate())
    assert (this, f"quota:{this:%Y-%m}") in keys
    assert (last, f"quota:{last:%Y-%m}") in keys


def test_a_pending_request_takes_its_requirement_off_the_list(supervised, evidence_dir):
    file_quota(supervised)
    keys = {o.requirement.key for o in absences.open_options(supervised)}
    assert quota_key() not in keys


def test_filing_with_a_png_stores_it_privately_under_a_name_from_its_content(
    supervised, evidence_dir, settings
):
    absence = file_quota(supervised, evidence=upload(image_bytes(), name="我的病历 张三.exe"))
    assert absence.status == AbsenceStatus.PENDING
    assert absence.evidence_type == "image/png"
    assert absence.evidence.name.endswith(".png") and "张三" not in absence.evidence.name
    (path,) = stored_files(evidence_dir)
    assert path.read_bytes() == image_bytes()
    assert str(settings.MEDIA_ROOT) not in str(path)
    event = AccessEvent.objects.filter(action=Action.CHANGE).latest("pk")
    assert event.person_id == supervised.pk and "absence filed" in event.detail


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(PDF_BYTES, "application/pdf"), (image_bytes("JPEG"), "image/jpeg")],
)
def test_pdf_and_jpeg_evidence_are_accepted(supervised, evidence_dir, content, content_type):
    absence = file_quota(supervised, evidence=upload(content, "x.bin", "application/x-unknown"))
    assert absence.evidence_type == content_type


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "Only a PDF, JPEG or PNG"),  # .exe
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "damaged"),  # the header alone is not enough
        (b"%PDF-1.4\n<script>", "damaged"),  # no end of file marker
        (b"<html><script>alert(1)</script></html>", "Only a PDF, JPEG or PNG"),
    ],
    ids=["renamed-exe", "empty", "fake-png", "truncated-pdf", "html"],
)
def test_bad_evidence_is_refused_and_nothing_is_stored(
    supervised, evidence_dir, english, content, message
):
    with pytest.raises(AbsenceError, match=message):
        file_quota(supervised, evidence=upload(content, "doctor.png", "image/png"))
    assert not AbsenceRequest.objects.exists()
    assert stored_files(evidence_dir) == []


def test_evidence_over_10_mb_is_refused(supervised, evidence_dir, english):
    big = image_bytes() + b"\x00" * (absences.MAX_EVIDENCE_BYTES + 1 - len(image_bytes()))
    with pytest.raises(AbsenceError, match="larger than 10 MB"):
        file_quota(supervised, evidence=upload(big))
    assert not AbsenceRequest.objects.exists() and stored_files(evidence_dir) == []


def test_exactly_10_mb_is_accepted(supervised, evidence_dir):
    content = PDF_BYTES[:-6] + b"\x00" * (absences.MAX_EVIDENCE_BYTES - len(PDF_BYTES)) + b"%%EOF\n"
    assert len(content) == absences.MAX_EVIDENCE_BYTES
    absence = file_quota(supervised, evidence=upload(content, "a.pdf", "application/pdf"))
    assert absence.evidence_type == "application/pdf"


def test_a_future_month_is_refused(supervised, english):
    next_month = month_start(month_start(timezone.localdate()) + dt.timedelta(days=40))
    with pytest.raises(AbsenceError, match="not started yet"):
        absences.do_file_absence(
            supervised,
            period=next_month,
            requirement_key=f"quota:{next_month:%Y-%m}",
            reason="出差",
            by=supervised.user,
        )
    assert not AbsenceRequest.objects.exists()


def test_a_month_long_ago_is_refused(supervised, english):
    old = month_start(timezone.localdate() - dt.timedelta(days=75))
    with pytest.raises(AbsenceError, match="too long ago"):
        absences.do_file_absence(
            supervised,
            period=old,
            requirement_key=f"quota:{old:%Y-%m}",
            reason="x",
            by=supervised.user,
        )


def test_a_requirement_that_is_not_theirs_is_refused(org, supervised, evidence_dir, english):
    west_only = make_lecture(org, offices=(org.west,), start=timezone.now() + dt.timedelta(hours=2))
    period = ledger_period(west_only)
    for key in (f"lecture:{west_only.pk}", "lecture:999999", "course:1", "quota:1999-01"):
        with pytest.raises(AbsenceError, match="not one of the things asked of you"):
            absences.do_file_absence(
                supervised,
                period=period,
                requirement_key=key,
                reason="有事",
                evidence=upload(image_bytes()),
                by=supervised.user,
            )
    assert not AbsenceRequest.objects.exists() and stored_files(evidence_dir) == []


def test_a_requirement_already_met_needs_no_leave(supervised, english):
    period = month_start(timezone.localdate())
    ParticipationRecord.objects.create(
        person=supervised,
        period=period,
        source=ParticipationSource.LESSON,
        requirement_key="lesson:1",
        minutes=60 * 40,
        status=ParticipationStatus.COMPLETED,
    )
    with pytest.raises(AbsenceError, match="already done or excused"):
        file_quota(supervised)


def test_a_blank_or_overlong_reason_is_refused(supervised, english):
    with pytest.raises(AbsenceError, match="why you cannot take part"):
        file_quota(supervised, reason="   ")
    with pytest.raises(AbsenceError, match="under 1000"):
        file_quota(supervised, reason="长" * 1001)
    assert not AbsenceRequest.objects.exists()


def test_a_second_open_request_is_refused(supervised, evidence_dir, english):
    file_quota(supervised, evidence=upload(image_bytes()))
    with pytest.raises(AbsenceError, match="already asked"):
        file_quota(supervised, evidence=upload(image_bytes()))
    assert AbsenceRequest.objects.count() == 1
    assert len(stored_files(evidence_dir)) == 1


def test_the_unique_constraint_backs_the_check_and_leaves_no_orphan_file(
    supervised, evidence_dir, english, monkeypatch
):
    """Two requests racing past the check: the database refuses the second, and its evidence
    file is removed again."""
    file_quota(supervised, evidence=upload(image_bytes()))
    monkeypatch.setattr(absences, "OPEN_STATUSES", ())  # the check sees nothing open
    with pytest.raises(AbsenceError, match="already asked"):
        file_quota(supervised, evidence=upload(image_bytes()))
    assert AbsenceRequest.objects.count() == 1
    assert len(stored_files(evidence_dir)) == 1


def test_a_failure_after_the_file_is_written_removes_it(supervised, evidence_dir, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the log is down")

    monkeypatch.setattr(absences, "record_access", broken)
    with pytest.raises(RuntimeError):
        file_quota(supervised, evidence=upload(image_bytes()))
    assert not AbsenceRequest.objects.exists() and stored_files(evidence_dir) == []


def test_filing_tells_the_case_officer(org, supervised):
    absence = file_quota(supervised)
    note = Notification.objects.get(recipient=org.officer)
    assert note.url == f"/admin/absences/{absence.pk}/"


def test_the_officer_files_for_the_person_who_is_told(org, supervised):
    absence = file_quota(supervised, by=org.officer)
    assert absence.filed_by == org.officer
    assert Notification.objects.filter(recipient=org.learner).exists()


@pytest.mark.parametrize(
    "who", ["other_officer", "counselor", "lecturer", "editor", "other_learner"]
)
def test_nobody_else_files_for_the_person(org, supervised, who):
    with pytest.raises(PermissionDenied):
        file_quota(supervised, by=getattr(org, who))


# --- Deciding -------------------------------------------------------------------------------


def test_approving_writes_the_excused_entry_and_the_month_counts_it(org, supervised):
    absence = file_quota(supervised)
    assert quota_key() in {m.key for m in person_month(supervised).missing}
    decision = absences.do_decide_absence(absence, approve=True, note="", by=org.officer)
    absence.refresh_from_db()
    assert (absence.status, absence.decided_by) == (AbsenceStatus.APPROVED, org.officer)
    record = ParticipationRecord.objects.get(person=supervised, source=ParticipationSource.EXCUSED)
    assert (record.requirement_key, record.status, record.minutes, record.period) == (
        quota_key(),
        ParticipationStatus.EXCUSED,
        0,
        month_start(timezone.localdate()),
    )
    result = person_month(supervised)
    assert result.excused == 1 and quota_key() not in {m.key for m in result.missing}
    assert result.status == MonthStatus.EXCUSED
    assert decision.makeup is None
    note = Notification.objects.get(recipient=org.learner)
    assert note.url == "/learning/absences/"
    assert AccessEvent.objects.filter(
        action=Action.CHANGE, person_id=supervised.pk, detail__startswith="absence approved"
    ).exists()


def test_an_administrator_approves_too(org, supervised):
    absence = file_quota(supervised)
    absences.do_decide_absence(absence, approve=True, note="同意", by=org.administrator)
    assert ParticipationRecord.objects.filter(source=ParticipationSource.EXCUSED).exists()


def test_rejecting_needs_a_note_and_leaves_the_ledger_unchanged(org, supervised, english):
    absence = file_quota(supervised)
    with pytest.raises(AbsenceError, match="short note"):
        absences.do_decide_absence(absence, approve=False, note=" ", by=org.officer)
    absences.do_decide_absence(absence, approve=False, note="请提供病历", by=org.officer)
    absence.refresh_from_db()
    assert absence.status == AbsenceStatus.REJECTED and absence.decision_note == "请提供病历"
    assert not ParticipationRecord.objects.exists()
    assert quota_key() in {m.key for m in person_month(supervised).missing}
    note = Notification.objects.get(recipient=org.learner)
    assert "请提供病历" in note.body


def test_a_decided_request_cannot_be_decided_again(org, supervised, english):
    absence = file_quota(supervised)
    absences.do_decide_absence(absence, approve=True, note="", by=org.officer)
    for approve in (True, False):
        with pytest.raises(AbsenceError, match="already been decided"):
            absences.do_decide_absence(absence, approve=approve, note="再次", by=org.administrator)
    absence.refresh_from_db()
    assert absence.decided_by == org.officer
    assert Notification.objects.filter(recipient=org.learner).count() == 1


@pytest.mark.parametrize("who", ["other_officer", "counselor", "lecturer", "editor", "learner"])
def test_only_officers_and_administrators_in_scope_decide(org, supervised, who):
    absence = file_quota(supervised)
    with pytest.raises(PermissionDenied):
        absences.do_decide_absence(absence, approve=True, note="", by=getattr(org, who))
    absence.refresh_from_db()
    assert absence.status == AbsenceStatus.PENDING


def test_after_a_rejection_the_person_may_ask_again(org, supervised):
    absence = file_quota(supervised)
    absences.do_decide_absence(absence, approve=False, note="请补充材料", by=org.officer)
    again = file_quota(supervised, reason="补充：住院证明")
    assert again.pk != absence.pk and again.status == AbsenceStatus.PENDING


# --- Withdrawing ----------------------------------------------------------------------------


def test_the_person_withdraws_a_pending_request(org, supervised, english):
    absence = file_quota(supervised)
    absences.do_withdraw_absence(absence, by=org.learner)
    absence.refresh_from_db()
    assert absence.status == AbsenceStatus.WITHDRAWN
    with pytest.raises(AbsenceError, match="already been decided"):
        absences.do_withdraw_absence(absence, by=org.learner)
    with pytest.raises(AbsenceError, match="withdrawn this request"):
        absences.do_decide_absence(absence, approve=True, note="", by=org.officer)
    assert file_quota(supervised).status == AbsenceStatus.PENDING  # may ask again


def test_a_decided_request_cannot_be_withdrawn(org, supervised, english):
    absence = file_quota(supervised)
    absences.do_decide_absence(absence, approve=True, note="", by=org.officer)
    with pytest.raises(AbsenceError, match="cannot be withdrawn"):
        absences.do_withdraw_absence(absence, by=org.learner)


@pytest.mark.parametrize("who", ["other_learner", "officer"])
def test_nobody_else_withdraws_it(org, supervised, who):
    absence = file_quota(supervised)
    with pytest.raises(Http404):
        absences.do_withdraw_absence(absence, by=getattr(org, who))


# --- Lectures -------------------------------------------------------------------------------


@pytest.fixture
def missed(org, supervised):
    """A lecture that ended 3 hours ago; the learner never came (absent, makeup given)."""
    lecture = past_lecture(org)
    live_services.do_recompute_attendance(lecture)
    row = Attendance.objects.get(lecture=lecture, person=supervised)
    assert row.effective_status == AttendanceStatus.ABSENT
    assert Makeup.objects.filter(lecture=lecture, person=supervised).exists()
    return lecture


def file_lecture(person, lecture) -> AbsenceRequest:
    return absences.do_file_absence(
        person,
        period=ledger_period(lecture),
        requirement_key=f"lecture:{lecture.pk}",
        reason="发烧去医院",
        by=person.user,
    )


def test_approving_a_missed_lecture_excuses_the_attendance_and_keeps_a_makeup(
    org, supervised, missed
):
    absence = file_lecture(supervised, missed)
    decision = absences.do_decide_absence(absence, approve=True, note="", by=org.officer)
    row = Attendance.objects.get(lecture=missed, person=supervised)
    assert row.effective_status == AttendanceStatus.EXCUSED and row.override_by == org.officer
    assert decision.attendance_changed and decision.makeup is not None
    assert Makeup.objects.open().filter(lecture=missed, person=supervised).count() == 1
    key = f"lecture:{missed.pk}"
    result = person_month(supervised, ledger_period(missed))
    assert key not in {m.key for m in result.missing}
    # a later recompute keeps both the excused attendance and the makeup
    live_services.do_recompute_attendance(missed)
    assert Makeup.objects.open().filter(lecture=missed, person=supervised).exists()
    assert (
        ParticipationRecord.objects.filter(
            person=supervised, requirement_key=key, status=ParticipationStatus.EXCUSED
        ).count()
        == 2
    )  # the lecture's own entry and the approved absence
    body = Notification.objects.filter(recipient=org.learner).latest("pk").body
    assert decision.makeup.due_date.isoformat() in body


def test_approving_without_a_makeup_withdraws_it(org, supervised, missed):
    absence = file_lecture(supervised, missed)
    decision = absences.do_decide_absence(
        absence, approve=True, note="", by=org.officer, makeup=False
    )
    assert decision.makeup is None
    assert not Makeup.objects.filter(lecture=missed, person=supervised).exists()
    live_services.do_recompute_attendance(missed)
    assert not Makeup.objects.filter(lecture=missed, person=supervised).exists()


def test_a_lecture_not_yet_held_gets_only_the_ledger_entry(org, supervised):
    lecture = make_lecture(org, start=timezone.now() + dt.timedelta(hours=1))
    absence = file_lecture(supervised, lecture)
    decision = absences.do_decide_absence(absence, approve=True, note="", by=org.officer)
    assert not decision.attendance_changed and decision.makeup is None
    assert not Attendance.objects.exists() and not Makeup.objects.exists()
    assert (
        ParticipationRecord.objects.get(source=ParticipationSource.EXCUSED).requirement_key
        == f"lecture:{lecture.pk}"
    )


def test_a_lecture_excused_beforehand_is_computed_as_excused_once_held(org, supervised):
    lecture = make_lecture(org, start=timezone.now() + dt.timedelta(hours=1))
    absences.do_decide_absence(
        file_lecture(supervised, lecture), approve=True, note="", by=org.officer
    )
    start = timezone.now() - dt.timedelta(hours=3)
    Lecture.objects.filter(pk=lecture.pk).update(start=start, end=start + dt.timedelta(hours=1))
    lecture.refresh_from_db()
    live_services.do_recompute_attendance(lecture)
    row = Attendance.objects.get(lecture=lecture, person=supervised)
    assert (row.status, row.override_status) == (AttendanceStatus.EXCUSED, "")
    assert row.figures["excused_by_request"] is True
    assert f"lecture:{lecture.pk}" not in {
        m.key for m in person_month(supervised, ledger_period(lecture)).missing
    }


def test_an_administrators_approval_reaches_attendance_at_the_next_computation(
    org, supervised, missed, english
):
    absence = file_lecture(supervised, missed)
    decision = absences.do_decide_absence(absence, approve=True, note="", by=org.administrator)
    assert "next computation" in decision.attendance_note
    row = Attendance.objects.get(lecture=missed, person=supervised)
    assert row.effective_status == AttendanceStatus.ABSENT
    assert ParticipationRecord.objects.filter(source=ParticipationSource.EXCUSED).exists()
    assert live_services.do_recompute_due() == 1  # the lecture was marked stale
    row.refresh_from_db()
    assert (row.effective_status, row.override_status) == (AttendanceStatus.EXCUSED, "")


def test_rejecting_a_missed_lecture_changes_nothing_there(org, supervised, missed):
    absence = file_lecture(supervised, missed)
    absences.do_decide_absence(absence, approve=False, note="请按时补课", by=org.officer)
    row = Attendance.objects.get(lecture=missed, person=supervised)
    assert row.effective_status == AttendanceStatus.ABSENT and row.override_status == ""
    assert Makeup.objects.filter(lecture=missed, person=supervised).exists()


# --- Pure checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"MZ\x90\x00", None),
        (b"GIF89a", None),
        (b"", None),
        (b"PK\x03\x04", None),
    ],
)
def test_sniff_reads_the_first_bytes(head, expected):
    assert absences.sniff(head) == expected


@pytest.mark.parametrize("value", ["", "2026-13|quota:2026-13", "abc|x", "2026-11|", "2026-11"])
def test_parse_option_refuses_malformed_values(value):
    with pytest.raises(AbsenceError):
        absences.parse_option(value)


def test_parse_option():
    assert absences.parse_option("2026-11|lecture:7") == (dt.date(2026, 11, 1), "lecture:7")


# --- The handler's notice once the request is settled ---------------------------------------


@pytest.mark.parametrize("decider", ["officer", "administrator"])
def test_deciding_marks_the_officers_waiting_notice_read(org, supervised, decider):
    absence = file_quota(supervised)
    waiting = Notification.objects.get(recipient=org.officer)
    assert waiting.read_at is None
    absences.do_decide_absence(absence, approve=True, note="", by=getattr(org, decider))
    waiting.refresh_from_db()
    assert waiting.read_at is not None
    # the person's news of the decision is still unread for them
    assert Notification.objects.get(recipient=org.learner).read_at is None


def test_a_rejection_settles_the_notice_and_other_requests_keep_theirs(org, supervised):
    first = file_quota(supervised)
    absences.do_decide_absence(first, approve=False, note="材料不全", by=org.officer)
    second = file_quota(supervised)
    waiting = Notification.objects.get(
        recipient=org.officer, dedupe_key=f"absence:{second.pk}:filed"
    )
    assert waiting.read_at is None
    assert Notification.objects.get(dedupe_key=f"absence:{first.pk}:filed").read_at is not None


def test_withdrawing_marks_the_officers_waiting_notice_read(org, supervised):
    absence = file_quota(supervised)
    absences.do_withdraw_absence(absence, by=org.learner)
    assert Notification.objects.get(recipient=org.officer).read_at is not None


def test_when_the_officer_filed_the_persons_own_notice_is_left_alone(org, supervised):
    absence = file_quota(supervised, by=org.officer)
    absences.do_decide_absence(absence, approve=True, note="", by=org.officer)
    filed = Notification.objects.get(
        recipient=org.learner, dedupe_key=f"absence:{absence.pk}:filed"
    )
    assert filed.read_at is None


# --- The decision notice follows the reader's language --------------------------------------


def _inbox(client, user, language: str, page: str = "notifications_inbox") -> str:
    if page == "notifications_inbox":
        client.force_login(user)
    client.cookies["django_language"] = language
    return client.get(reverse(page)).content.decode()


@pytest.mark.parametrize("approve", [True, False])
def test_the_decision_notice_reads_in_the_persons_language(
    org, supervised, missed, client, approve
):
    absence = file_lecture(supervised, missed)
    absences.do_decide_absence(absence, approve=approve, note="请提供病历", by=org.officer)
    month = absence.period
    english = _inbox(client, org.learner, "en")
    chinese = _inbox(client, org.learner, "zh-hans")
    verdict = "was approved" if approve else "was not approved"
    assert f"Your leave request {verdict}" in english
    assert f"({month:%Y-%m})" in english and "Your case officer writes: 请提供病历" in english
    assert ("请假申请已批准" if approve else "请假申请未获批准") in chinese
    assert f"（{month.year}年{month.month}月）" in chinese and "工作人员留言：请提供病历" in chinese
    assert "leave request" not in chinese
    assert f"“{missed.title}”" in english and f"“{missed.title}”" in chinese


def test_the_makeup_date_and_no_note_read_in_english(org, supervised, missed, client):
    absence = file_lecture(supervised, missed)
    decision = absences.do_decide_absence(absence, approve=True, note="", by=org.officer)
    english = _inbox(client, org.learner, "en")
    assert f"Please do the makeup by {decision.makeup.due_date.isoformat()}" in english
    assert "writes" not in english


def test_the_officers_waiting_notice_reads_in_the_officers_language(org, supervised, client):
    file_quota(supervised)
    login_staff(client, org.officer)
    english = _inbox(client, org.officer, "en", "notifications_admin_inbox")
    assert f"A leave request is waiting for you: {supervised.full_name}" in english
    chinese = _inbox(client, org.officer, "zh-hans", "notifications_admin_inbox")
    assert f"有一份请假申请等您审批：{supervised.full_name}" in chinese


# A quota's stored title is generated text in the filer's language ("2026年9月学习 1.5 小时"),
# not content like a lecture's title: every reader gets it in their own language.


def _filed_in_chinese(person, **kwargs) -> AbsenceRequest:
    with translation.override("zh-hans"):
        absence = file_quota(person, **kwargs)
    assert "学习" in absence.requirement
    return absence


@pytest.mark.parametrize(
    ("approve", "note"), [(True, ""), (True, "请提供病历"), (False, "请提供病历")]
)
def test_a_quota_decision_names_the_quota_in_the_readers_language(
    org, supervised, client, approve, note
):
    absence = _filed_in_chinese(supervised)
    absences.do_decide_absence(absence, approve=approve, note=note, by=org.officer)
    month = month_start(timezone.localdate())
    english = _inbox(client, org.learner, "en")
    assert absence.requirement not in english
    assert f"Your study quota of {month:%Y-%m}" in english
    chinese = _inbox(client, org.learner, "zh-hans")
    assert f"您{month.year}年{month.month}月的学习时长要求" in chinese


def test_the_officers_waiting_notice_names_the_quota_in_the_officers_language(
    org, supervised, client
):
    absence = _filed_in_chinese(supervised)
    login_staff(client, org.officer)
    english = _inbox(client, org.officer, "en", "notifications_admin_inbox")
    month = month_start(timezone.localdate())
    assert absence.requirement not in english
    assert f"Study quota of {month:%Y-%m}" in english


def test_the_notice_of_a_request_filed_by_the_officer_names_the_quota_in_english(
    org, supervised, client
):
    absence = _filed_in_chinese(supervised, by=org.officer)
    english = _inbox(client, org.learner, "en")
    assert absence.requirement not in english
    assert "Your study quota of" in english and "you will be told of the decision" in english


def test_the_persons_own_requests_name_the_quota_in_their_language(org, supervised, client):
    absence = _filed_in_chinese(supervised)
    client.force_login(org.learner)
    client.cookies["django_language"] = "en"
    english = client.get(reverse("learning_absences")).content.decode()
    assert absence.requirement not in english
    month = month_start(timezone.localdate())
    assert f"Study quota of {month:%Y-%m}" in english
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(reverse("learning_absences")).content.decode()
    assert f"{month.year}年{month.month}月的学习时长要求" in chinese
