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
