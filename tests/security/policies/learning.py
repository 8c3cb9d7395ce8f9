"""Courses and learning (learning/urls.py, learning/wagtail_hooks.py)."""

from __future__ import annotations

from tests.security.matrix import (
    ANY,
    BAD,
    FORBIDDEN,
    LOGIN,
    METHOD,
    NOTFOUND,
    OK,
    REDIRECT,
    Rule,
    roles,
    scoped,
)

RULES = [
    Rule(
        name="learning_heartbeat",
        get=roles(everyone=METHOD),
        post=roles(anonymous=FORBIDDEN, signed_in=BAD),
        note="JSON API: empty body is malformed; anonymous 403, never a redirect",
    ),
    Rule(
        name="learning_quiz",
        get=roles(everyone=METHOD),
        post=roles(anonymous=LOGIN, signed_in=NOTFOUND),
        note="lesson 1 does not exist / nobody is enrolled",
    ),
    Rule(
        route=r"admin/study-quotas/.*",
        get=roles(non_staff=LOGIN, staff=frozenset({FORBIDDEN, NOTFOUND}), administrator=ANY),
        note="monthly quotas: administrators only (object views: 404 for a missing id)",
    ),
]

# ---- Study progress (learning/admin_views.py): holders of people.view_person (officers,
# counselors, administrators), each within visible_to; lecturers and editors are refused.
_PROGRESS = roles(
    non_staff=LOGIN,
    staff=FORBIDDEN,
    officer=OK,
    other_officer=OK,
    counselor=OK,
    other_counselor=OK,
    administrator=OK,
)
# The east office: its officer, learner's counselor and the administrator see it.
_EAST = {**_PROGRESS, "other_officer": NOTFOUND, "other_counselor": NOTFOUND}


def _course(org) -> dict[str, str]:
    """A course ``org.person`` is enrolled in (made once, reused)."""
    from learning.models import Enrollment
    from tests.learning.builders import make_course

    enrollment = Enrollment.objects.filter(person=org.person).first()
    if enrollment is None:
        enrollment = Enrollment.objects.create(person=org.person, course=make_course(lessons=1))
    return {"pk": str(enrollment.course_id)}


def _east(org) -> dict[str, str]:
    return {"pk": str(org.east.pk)}


RULES += [
    Rule(name="learning_progress", get=_PROGRESS),
    Rule(name="learning_progress_course", params=_course, get=_PROGRESS),
    Rule(
        name="learning_progress_course_export",
        params=_course,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_PROGRESS,
        post_data={"format": "csv"},
    ),
    Rule(name="learning_progress_office", params=_east, get=_EAST),
    Rule(
        name="learning_progress_office_export",
        params=_east,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_EAST,
        post_data={"format": "xlsx"},
    ),
]

# ---- Enrollment and certificates (learning/enrollment_views.py, learning/views.py): officers
# and administrators enroll within Person.objects.visible_to; a certificate PDF goes to its own
# learner, or (POST, logged) to staff with the person in scope; /verify/<code>/ is public.
_ENROLLERS = roles(non_staff=LOGIN, staff=FORBIDDEN, officer=OK, other_officer=OK, administrator=OK)


def _certificate(org):
    """A certificate of ``org.person`` for a completed course (made once, reused)."""
    from django.utils import timezone

    from learning.certificates import do_issue_certificate
    from learning.models import Certificate, LessonProgress
    from tests.learning.builders import lessons_of, make_course

    certificate = Certificate.objects.filter(person=org.person).first()
    if certificate is None:
        course = make_course(lessons=1, quiz=False)
        LessonProgress.objects.create(
            person=org.person,
            lesson=lessons_of(course)[0],
            credited_seconds=600,
            completed_at=timezone.now(),
        )
        certificate = do_issue_certificate(org.person, course)
    return certificate


def _enrollment(org) -> dict[str, str]:
    """An enrollment of ``org.person`` of its own (removing it leaves others' fixtures)."""
    from learning.models import Enrollment
    from tests.learning.builders import make_course

    enrollment = Enrollment.objects.create(person=org.person, course=make_course(lessons=1))
    return {"pk": str(enrollment.pk)}


RULES += [
    Rule(
        name="learning_enroll",
        get=_ENROLLERS,
        post=_ENROLLERS,
        note="empty POST re-shows the form with errors, nothing changes",
    ),
    Rule(name="learning_enrollment_list", get=_ENROLLERS),
    Rule(name="learning_enrollment_list_results", get=_ENROLLERS),
    Rule(
        name="learning_unenroll",
        params=_enrollment,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=roles(
            non_staff=LOGIN,
            staff=FORBIDDEN,
            officer=REDIRECT,
            other_officer=NOTFOUND,
            administrator=NOTFOUND,
        ),
        note="learner's enrollment: officer (first in order) removes it; then it is gone",
    ),
    Rule(
        name="learning_certificate_staff",
        params=lambda org: {"pk": str(_certificate(org).pk)},
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=roles(
            non_staff=LOGIN,
            staff=NOTFOUND,
            officer=OK,
            counselor=OK,
            administrator=OK,
        ),
        note="learner's certificate: only staff with learner in scope",
    ),
    Rule(
        name="learning_certificate_revoke",
        params=lambda org: {"pk": str(_certificate(org).pk)},
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=BAD),
        note="administrators only (others refused before the lookup); empty reason: 400, "
        "nothing revoked",
    ),
    Rule(
        name="learning_certificate",
        params=lambda org: {"course_id": str(_certificate(org).course_id)},
        get=roles(anonymous=LOGIN, signed_in=NOTFOUND, learner=OK),
        note="only the certificate's own learner",
    ),
    Rule(
        name="certificate_verify",
        params=lambda org: {"code": _certificate(org).code},
        get=roles(everyone=OK),
        note="public: course, date and a masked name only",
    ),
    Rule(
        route=r"admin/enrollment-rules/.*",
        get=roles(non_staff=LOGIN, staff=frozenset({FORBIDDEN, NOTFOUND}), administrator=ANY),
        note="auto-enrollment rules: administrators only (object views: 404 for a missing id)",
    ),
]

# ---- Excused absences (learning/absence_views.py): the person files, follows and withdraws
# their own; officers and administrators who see the person view, file and decide; counselors,
# lecturers and editors are refused (logged). Evidence is served only through these views.
_HANDLERS = {"officer", "other_officer", "administrator"}
_ABSENCE_STAFF = roles(
    non_staff=LOGIN, staff=FORBIDDEN, officer=OK, other_officer=NOTFOUND, administrator=OK
)


def _absence(org, key: str) -> dict[str, str]:
    """A pending request of ``org.person`` with a PNG as evidence (made once per key)."""
    import io

    from django.core.files.base import ContentFile
    from django.utils import timezone
    from PIL import Image

    from lib.months import month_start
    from participation.models import AbsenceRequest

    absence = AbsenceRequest.objects.filter(person=org.person, requirement_key=key).first()
    if absence is None:
        absence = AbsenceRequest.objects.create(
            person=org.person,
            period=month_start(timezone.localdate()),
            requirement_key=key,
            requirement="矩阵测试",
            reason="矩阵测试",
            filed_by=org.learner,
            filed_at=timezone.now(),
            evidence_type="image/png",
        )
        # One fixed file, written once: the matrix leaves no new file behind on each run.
        storage, name = absence.evidence.storage, "absence-evidence/permission-matrix.png"
        if not storage.exists(name):
            buffer = io.BytesIO()
            Image.new("RGB", (4, 4)).save(buffer, format="PNG")
            storage.save(name, ContentFile(buffer.getvalue()))
        absence.evidence.name = name
        absence.save(update_fields=["evidence"])
    return {"pk": str(absence.pk)}


RULES += [
    Rule(name="learning_absences", get=roles(anonymous=LOGIN, signed_in=NOTFOUND, learners=OK)),
    Rule(
        name="learning_absence_new",
        get=roles(anonymous=LOGIN, signed_in=NOTFOUND, learners=OK),
        post=roles(anonymous=LOGIN, signed_in=NOTFOUND, learners=OK),
        note="supervised persons only; empty POST re-shows the form, nothing stored",
    ),
    Rule(
        name="learning_absence_withdraw",
        params=lambda org: _absence(org, "quota:matrix-withdraw"),
        get=roles(everyone=METHOD),
        post=roles(anonymous=LOGIN, signed_in=NOTFOUND, learner=REDIRECT),
        note="only the person's own pending request",
    ),
    Rule(
        name="learning_absence_evidence",
        params=lambda org: _absence(org, "quota:matrix-view"),
        get=roles(anonymous=LOGIN, signed_in=NOTFOUND, learner=OK),
        note="the person's own evidence (logged)",
    ),
    Rule(
        name="learning_absence_queue",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, **dict.fromkeys(_HANDLERS, OK)),
    ),
    Rule(
        name="learning_absence_queue_results",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, **dict.fromkeys(_HANDLERS, OK)),
    ),
    Rule(
        name="learning_absence_detail",
        params=lambda org: _absence(org, "quota:matrix-view"),
        get=_ABSENCE_STAFF,
    ),
    Rule(
        name="learning_absence_staff_evidence",
        params=lambda org: _absence(org, "quota:matrix-view"),
        get=_ABSENCE_STAFF,
        note="evidence for handlers who see the person (logged)",
    ),
    Rule(
        name="learning_absence_decide",
        params=lambda org: _absence(org, "quota:matrix-view"),
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_ABSENCE_STAFF,
        note="empty POST: the form's errors, nothing decided",
    ),
    Rule(
        name="learning_absence_file",
        params=lambda org: {"pk": str(org.person.pk)},
        get=_ABSENCE_STAFF,
        post=_ABSENCE_STAFF,
        note="empty POST: the form's errors, nothing filed",
    ),
]

OBJECT_PROBES = [
    *globals().get("OBJECT_PROBES", []),
    ("learning_absence_file", "get", lambda obj: scoped(obj, perm=_HANDLERS)),
]

# ---- Follow-up (learning/followup_views.py): officers and administrators, each within
# Person.objects.visible_to; counselors, lecturers and editors are refused (logged). Reminder
# texts and the follow-up policy are the administrators'.
_FOLLOW_UP = roles(non_staff=LOGIN, staff=FORBIDDEN, officer=OK, other_officer=OK, administrator=OK)


def _follow_up(org) -> dict[str, str]:
    """An open follow-up of ``org.person`` (east office) with the case officer (made once)."""
    from django.utils import timezone

    from participation.models import FollowUp, FollowUpStage

    row, _created = FollowUp.objects.get_or_create(
        person=org.person,
        period=timezone.localdate().replace(day=1),
        requirement_key="quota:matrix",
        defaults={"opened_at": timezone.now(), "stage": FollowUpStage.OFFICER},
    )
    return {"pk": str(row.pk)}


RULES += [
    Rule(name="learning_followup_list", get=_FOLLOW_UP),
    Rule(name="learning_followup_list_results", get=_FOLLOW_UP),
    Rule(
        name="learning_followup_detail",
        params=_follow_up,
        get={**_FOLLOW_UP, "other_officer": NOTFOUND},
        post={**_FOLLOW_UP, "other_officer": NOTFOUND},
        note="east follow-up: its officer and the administrator; empty POST re-shows the form",
    ),
    Rule(
        route=r"admin/reminder-texts/.*",
        get=roles(non_staff=LOGIN, staff=frozenset({FORBIDDEN, NOTFOUND}), administrator=ANY),
        note="reminder texts: administrators only (object views: 404 for a missing id)",
    ),
    Rule(
        route=r"admin/follow-up-policy/.*",
        get=roles(non_staff=LOGIN, staff=frozenset({FORBIDDEN, NOTFOUND}), administrator=ANY),
        note="follow-up policy: administrators only (object views: 404 for a missing id)",
    ),
]

# ---- Participation reports (learning/report_views.py): holders of people.view_office
# (officers, administrators) request reports for their offices; a report's page, progress and
# file are its requester's alone (404 for anyone else); downloads are POST and logged.
_REPORTERS = roles(non_staff=LOGIN, staff=FORBIDDEN, officer=OK, other_officer=OK, administrator=OK)
_BAD_REQUEST = roles(
    non_staff=LOGIN, staff=FORBIDDEN, officer=BAD, other_officer=BAD, administrator=BAD
)
_OWN_REPORT = roles(
    non_staff=LOGIN, staff=FORBIDDEN, officer=OK, other_officer=NOTFOUND, administrator=NOTFOUND
)


def _report(org) -> dict[str, str]:
    """A ready monthly PDF report of the east office, requested by ``officer`` (made once)."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from participation.models import ReportFile, ReportStatus

    report = ReportFile.objects.filter(requested_by=org.officer).first()
    if report is None:
        report = ReportFile.objects.create(
            kind="monthly",
            params={"office": org.east.pk, "period": "2026-10", "format": "pdf"},
            requested_by=org.officer,
            requested_at=timezone.now(),
            status=ReportStatus.READY,
            filename="participation-east-2026-10.pdf",
        )
        report.file.save(report.filename, ContentFile(b"%PDF-1.4\n%%EOF\n"))
    return {"pk": str(report.pk)}


RULES += [
    Rule(name="learning_reports", get=_REPORTERS),
    Rule(
        name="learning_report_monthly",
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_BAD_REQUEST,
        note="empty POST: 400 with the reasons, nothing stored",
    ),
    Rule(
        name="learning_report_history",
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_BAD_REQUEST,
        note="empty POST: 400 with the reasons, nothing stored",
    ),
    Rule(name="learning_report", params=_report, get=_OWN_REPORT, note="requester only"),
    Rule(name="learning_report_status", params=_report, get=_OWN_REPORT, note="requester only"),
    Rule(
        name="learning_report_download",
        params=_report,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=_OWN_REPORT,
        note="requester only, from private storage, logged",
    ),
]

# ---- Participation dashboards (learning/dashboard_views.py): holders of people.view_office
# (officers: own office subtree; administrators: the bureau); other offices and persons 404.
_DASHBOARD = roles(non_staff=LOGIN, staff=FORBIDDEN, officer=OK, other_officer=OK, administrator=OK)
RULES += [
    Rule(name="learning_participation", get=_DASHBOARD),
    Rule(
        name="learning_participation_office",
        params=_east,
        get={**_DASHBOARD, "other_officer": NOTFOUND},
        note="east office: its officer and the administrator",
    ),
    Rule(
        name="learning_participation_person",
        params=lambda org: {"pk": str(org.person.pk)},
        get={**_DASHBOARD, "other_officer": NOTFOUND},
        note="learner's months: officer and administrator (logged)",
    ),
]
