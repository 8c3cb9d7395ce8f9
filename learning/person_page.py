"""What learning shows on the staff person page (``people.person_page``): each enrolled course
with its progress, and the lessons completed, courses assigned and certificates issued.

Staff who see study progress (``people.view_person``, as the progress pages) see it here."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learning.models import Certificate, Enrollment, LessonProgress
from learning.services import course_progress
from people.models import Person, User
from people.person_page import (
    TimelineEntry,
    Tone,
    Visit,
    register_section,
    register_timeline_source,
)

# The permission of the study progress pages (learning.admin_views).
VIEW_PERMISSION = "people.view_person"


def may_see(person: Person, user: User) -> bool:
    return user.has_perm(VIEW_PERMISSION)


def courses_section(visit: Visit) -> dict | None:
    if not visit.allows(may_see):
        return None
    person = visit.person
    today = timezone.localdate()
    return {
        "courses": course_progress(person),
        "today": today,
        "certificates": Certificate.objects.filter(person=person, revoked_at__isnull=True).count(),
    }


def study_events(visit: Visit, limit: int) -> list[TimelineEntry]:
    if not visit.allows(may_see):
        return []
    person = visit.person
    entries = [
        TimelineEntry(
            row.completed_at,
            "study",
            _("Lesson completed: %(lesson)s") % {"lesson": row.lesson.title},
            "",
            "",
            Tone.GOOD,
        )
        for row in LessonProgress.objects.filter(person=person, completed_at__isnull=False)
        .select_related("lesson")
        .only("completed_at", "lesson__title")
        .order_by("-completed_at")[:limit]
    ]
    entries += [
        TimelineEntry(
            enrollment.created_at,
            "study",
            _("Course assigned: %(course)s") % {"course": enrollment.course.title},
            _("due %(due)s") % {"due": f"{enrollment.due_date:%Y-%m-%d}"}
            if enrollment.due_date
            else "",
        )
        for enrollment in Enrollment.objects.for_person(person)
        .select_related("course")
        .only("created_at", "due_date", "course__title")
        .order_by("-created_at")[:limit]
    ]
    entries += [
        TimelineEntry(
            certificate.issued_at,
            "study",
            _("Certificate issued: %(course)s") % {"course": certificate.course_title},
            _("Revoked") if certificate.revoked_at else "",
            "",
            Tone.GOOD,
        )
        for certificate in Certificate.objects.filter(person=person).order_by("-issued_at")[:limit]
    ]
    return entries


def register() -> None:
    register_section(
        "courses",
        20,
        gettext_lazy("Courses and progress"),
        courses_section,
        "learning/person_page/courses.html",
    )
    register_timeline_source("study", 10, gettext_lazy("Study"), study_events)
