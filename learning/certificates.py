"""Course certificates: issued once on completion, printed as PDF, verified by a public code.

A course is complete when every live lesson in it is complete (``learning.services``). The
certificate copies what it prints (name, course, hours, office) at issue time. Its code is 12
characters of Crockford base32 — 60 random bits, shown as ``ABCD-EFGH-JKMN`` — which a person
can read aloud or type, and which cannot be guessed or enumerated.

An administrator may revoke a certificate with a reason (``do_revoke_certificate``, logged);
the public check then says it was revoked and when, and its learner can no longer download it.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.models import Action
from audit.services import record_access
from courses.models import CoursePage, LessonPage
from learning.models import Certificate, Enrollment, LessonProgress
from participation.requirements import record_course_completion
from people.models import Person
from people.roles import Role, has_role

# Crockford's base32: no I, L, O or U, so nothing is mistaken for 1, 0 or V when typed.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12
GROUP = 4
_CODE = re.compile(rf"[{ALPHABET}]{{{CODE_LENGTH}}}")
# Crockford decoding: the look-alike letters a person may type for digits.
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_MAX_INPUT = 32
_ISSUE_ATTEMPTS = 5


# --- Codes and names (pure) -----------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """``ABCDEFGHJKMN`` → ``ABCD-EFGH-JKMN``."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalize_code(text: str) -> str | None:
    """The stored form of a code as a person may type it (any case, dashes or spaces between
    groups, O for 0, I or L for 1), or None if it cannot be a code."""
    if not isinstance(text, str) or len(text) > _MAX_INPUT:
        return None
    compact = re.sub(r"[\s-]", "", text).upper().translate(_LOOK_ALIKES)
    return compact if _CODE.fullmatch(compact) else None


# --- Completion and issue -------------------------------------------------------------------


def course_of_lesson(lesson_id: int) -> CoursePage | None:
    path = LessonPage.objects.filter(pk=lesson_id).values_list("path", flat=True).first()
    if path is None:
        return None
    return CoursePage.objects.filter(path=path[: -LessonPage.steplen]).first()


def completed_at(person: Person, course: CoursePage) -> dt.datetime | None:
    """When ``person`` completed the last of ``course``'s live lessons, or None if some live
    lesson is not complete yet (or the course has none)."""
    lessons = LessonPage.objects.child_of(course).live().values("pk")
    total = lessons.count()
    if not total:
        return None
    done = LessonProgress.objects.filter(
        person=person, lesson__in=lessons, completed_at__isnull=False
    ).aggregate(count=Count("pk"), last=Max("completed_at"))
    if done["count"] != total:
        return None
    return done["last"]


def do_issue_certificate(
    person: Person, course: CoursePage, now: dt.datetime | None = None
) -> Certificate | None:
    """The person's certificate for ``course``: issued now if the course is complete and none
    exists, else the existing one; None if the course is not complete.

    Exactly once: of two racing issues the unique (person, course) constraint keeps one, and
    the other returns it."""
    existing = Certificate.objects.filter(person=person, course=course).first()
    if existing is not None:
        return existing
    finished = completed_at(person, course)
    if finished is None:
        return None
    now = now or timezone.now()
    office = person.office
    for _attempt in range(_ISSUE_ATTEMPTS):
        try:
            with transaction.atomic():
                record_course_completion(person.pk, course.pk, course.title, finished)
                return Certificate.objects.create(
                    person=person,
                    course=course,
                    code=new_code(),
                    person_name=person.full_name,
                    course_title=course.title,
                    credit_hours=course.credit_hours,
                    office_name=office.name,
                    completed_at=finished,
                    issued_at=now,
                )
        except IntegrityError:
            existing = Certificate.objects.filter(person=person, course=course).first()
            if existing is not None:
                return existing
            # Otherwise the new code was taken (one in 2**60): draw another.
    raise RuntimeError("could not draw a free certificate code")


def issue_if_course_complete(person_id: int, lesson_id: int, now: dt.datetime) -> None:
    """Called when a lesson becomes complete: issue the course's certificate if that lesson
    was the last one. Runs inside the caller's transaction."""
    course = course_of_lesson(lesson_id)
    if course is None or not course.live:
        return
    person = Person.objects.select_related("office").get(pk=person_id)
    do_issue_certificate(person, course, now)


# --- Access ---------------------------------------------------------------------------------


def access_own_certificate(user, course_id: int) -> Certificate:
    """The signed-in learner's certificate for ``course_id``; 404 for anyone else.

    A course completed before certificates existed gets its certificate on first request,
    provided the learner is still enrolled in it and it is published."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Http404
    certificate = (
        Certificate.objects.filter(person__user=user, course_id=course_id)
        .select_related("person")
        .first()
    )
    if certificate is not None:
        return certificate
    enrollment = (
        Enrollment.objects.published()
        .filter(person__user=user, course_id=course_id)
        .select_related("person__office", "course")
        .first()
    )
    if enrollment is None:
        raise Http404
    certificate = do_issue_certificate(enrollment.person, enrollment.course)
    if certificate is None:
        raise Http404
    return certificate


# --- Revocation -----------------------------------------------------------------------------

REASON_MAX = 300


class CertificateError(Exception):
    """A revocation that cannot be done; ``str()`` is a clear, user-facing reason."""


def is_revoked(certificate: Certificate) -> bool:
    return certificate.revoked_at is not None


def may_revoke(user) -> bool:
    """Only administrators (and superusers) revoke certificates, within their scope
    (``Certificate.objects.visible_to``)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser or has_role(user, Role.ADMINISTRATOR))


def check_revoke_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError(_("Say why the certificate is revoked."))
    if len(reason) > REASON_MAX:
        raise CertificateError(
            _("Keep the reason under %(count)s characters.") % {"count": REASON_MAX}
        )
    return reason


def do_revoke_certificate(
    certificate: Certificate, by, reason: str, request=None, now: dt.datetime | None = None
) -> Certificate:
    """Revoke ``certificate`` as ``by`` (an administrator who has the person in scope; the
    caller checks it) with a mandatory ``reason``, and log it as a change of the person's
    record. The public check then says it was revoked (with the date, never the reason).

    Revoking twice raises ``CertificateError`` and changes nothing (checked under the row
    lock, so of two racing revocations exactly one counts)."""
    if not may_revoke(by):
        raise CertificateError(_("Only an administrator can revoke a certificate."))
    reason = check_revoke_reason(reason)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.revoked_at is not None:
            raise CertificateError(
                _("This certificate was already revoked on %(date)s.")
                % {"date": date_format(timezone.localtime(locked.revoked_at), "DATE_FORMAT")}
            )
        locked.revoked_at = now
        locked.revoked_by = by
        locked.revoked_reason = reason
        locked.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
        record_access(
            request,
            action=Action.CHANGE,
            user=by,
            obj=locked,
            person_id=locked.person_id,
            detail=f"certificate revoked: {reason}"[:255],
        )
    certificate.revoked_at = locked.revoked_at
    certificate.revoked_by = by
    certificate.revoked_reason = reason
    return certificate


def verify(code_text: str) -> Certificate | None:
    code = normalize_code(code_text)
    if code is None:
        return None
    return Certificate.objects.filter(code=code).first()


# --- The PDF --------------------------------------------------------------------------------


def verification_url(certificate: Certificate, request) -> str:
    """The public verification page as an absolute URL on the host the request came to
    (``ALLOWED_HOSTS`` guards it; ``SECURE_PROXY_SSL_HEADER`` gives https behind the proxy)."""
    return request.build_absolute_uri(reverse("certificate_verify", args=[certificate.code]))


def certificate_filename(certificate: Certificate) -> str:
    return f"certificate-{certificate.code}.pdf"


# --- Subject-access export (people.privacy.PERSON_DATA_COLLECTORS) ---------------------------


def collect_certificate_data(person: Person) -> dict:
    """The person's certificates, as printed on them."""
    return {
        "certificates": [
            {
                "course": c.course_title,
                "credit_hours": str(c.credit_hours),
                "office": c.office_name,
                "name": c.person_name,
                "completed_at": timezone.localtime(c.completed_at).isoformat(),
                "issued_at": timezone.localtime(c.issued_at).isoformat(),
                "verification_code": format_code(c.code),
                "revoked_at": timezone.localtime(c.revoked_at).isoformat()
                if c.revoked_at
                else None,
                "revoked_reason": c.revoked_reason,
            }
            for c in Certificate.objects.filter(person=person).order_by("issued_at", "pk")
        ]
    }
