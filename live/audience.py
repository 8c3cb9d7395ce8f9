"""A lecture's audience: the rule, the fixed list, and who is in it.

Until a lecture starts its audience is its rule (``candidate_audience``: offices and the
offices below them, narrowed to categories, plus named persons); from the start it is the
fixed list of ``LectureAudience`` rows (``do_resolve_audience``), which later changes to the
rule or to a person do not touch. Every other module of ``live`` asks this one; it imports
no other service module of ``live``.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from live import jitsi
from live.models import Lecture, LectureAudience
from people.models import Person


def candidate_audience(lecture: Lecture):
    """The active persons the lecture's audience rule names today: persons of the chosen
    offices and the offices below them, narrowed to the chosen categories (if any), plus the
    named persons. No offices and no categories: only the named persons."""
    offices = list(lecture.audience_offices.values_list("path", flat=True))
    categories = list(lecture.audience_categories.values_list("code", flat=True))
    named = Q(pk__in=lecture.audience_persons.values("pk"))
    if not offices and not categories:
        return Person.objects.active().filter(named)
    group = Q()
    if offices:
        in_offices = Q()
        for path in offices:
            in_offices |= Q(office__path__startswith=path)
        group &= in_offices
    if categories:
        group &= Q(category__in=categories)
    return Person.objects.active().filter(group | named)


def audience_persons(lecture: Lecture):
    """The audience as persons: the fixed list once resolved, before that the rule's."""
    if lecture.audience_resolved_at is not None:
        return Person.objects.filter(lecture_audiences__lecture=lecture)
    return candidate_audience(lecture)


def in_audience(lecture: Lecture, person: Person) -> bool:
    """Whether ``person`` is on the fixed list, or (not fixed yet) named by the rule today."""
    if lecture.audience_resolved_at is not None:
        return LectureAudience.objects.filter(lecture=lecture, person=person).exists()
    return Lecture.objects.for_person(person).filter(pk=lecture.pk).exists()


def audience_participant_ids(lecture: Lecture) -> dict[str, int]:
    """``{participant id: person id}`` of the audience: the fixed list, or the rule's
    candidates before the lecture starts."""
    if lecture.audience_resolved_at is not None:
        return dict(
            LectureAudience.objects.filter(lecture=lecture).values_list(
                "participant_id", "person_id"
            )
        )
    return {
        jitsi.participant_id(user_pk): pk
        for pk, user_pk in candidate_audience(lecture).values_list("pk", "user_id")
    }


def do_resolve_audience(lecture: Lecture, now: dt.datetime | None = None) -> int:
    """Fix the lecture's audience as ``LectureAudience`` rows (once: later calls change
    nothing) and return its size. Locks the lecture row."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Lecture.objects.select_for_update().get(pk=lecture.pk)
        if locked.audience_resolved_at is None:
            users = candidate_audience(locked).values_list("pk", "user_id")
            LectureAudience.objects.bulk_create(
                [
                    LectureAudience(
                        lecture=locked, person_id=pk, participant_id=jitsi.participant_id(user_pk)
                    )
                    for pk, user_pk in users
                ],
                ignore_conflicts=True,
            )
            locked.audience_resolved_at = now
            locked.save(update_fields=["audience_resolved_at", "updated_at"])
        lecture.audience_resolved_at = locked.audience_resolved_at
        return LectureAudience.objects.filter(lecture=locked).count()


def do_resolve_started_audiences(now: dt.datetime | None = None) -> int:
    """Resolve the audience of every lecture that has started; return how many."""
    now = now or timezone.now()
    lectures = list(Lecture.objects.unresolved().filter(start__lte=now))
    for lecture in lectures:
        do_resolve_audience(lecture, now)
    return len(lectures)
