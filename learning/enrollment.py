"""Enrolling persons in courses: by hand (officers, administrators) and by rule.

Naming follows the house contract: ``check_*`` validates, ``do_*`` writes. Who may be
enrolled is always ``Person.objects.active().visible_to(user)`` for a person doing it; rules
are bureau policy and reach every active person of their category.

A rule applies to each person at most once (an ``EnrollmentRuleApplication`` row records it),
so running the rules again — on save, after a roster import, from cron — is idempotent and
never undoes an officer's decision to remove an enrollment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from courses.models import CoursePage
from learning.models import DueFrom, Enrollment, EnrollmentRule, EnrollmentRuleApplication
from people.models import Category, Office, Person

BATCH_SIZE = 500


# --- Enrolling by hand ----------------------------------------------------------------------


@dataclass(frozen=True)
class EnrollResult:
    created: int = 0  # newly enrolled
    updated: int = 0  # already enrolled, due date changed
    unchanged: int = 0  # already enrolled with this due date

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def enrollable_persons(user) -> QuerySet[Person]:
    """Everyone ``user`` may enroll: active persons in their scope."""
    return Person.objects.active().visible_to(user)


def persons_in_office(user, office: Office) -> QuerySet[Person]:
    """Enrollable persons of ``office`` and the offices under it."""
    return enrollable_persons(user).filter(office__path__startswith=office.path)


def persons_in_category(user, category: str) -> QuerySet[Person]:
    if category not in Category.values:
        raise ValueError(f"unknown category {category!r}")
    return enrollable_persons(user).filter(category=category)


def do_enroll(
    user, course: CoursePage, persons: QuerySet[Person], due_date: dt.date | None
) -> EnrollResult:
    """Enroll ``persons`` (already scoped by the caller, see ``enrollable_persons``) in the
    published ``course``, due on ``due_date``.

    Persons already enrolled keep their one enrollment and get the new due date instead of a
    second row. Persons outside ``user``'s scope are dropped, whatever the caller passed."""
    if not course.live:
        raise ValueError("only published courses can be assigned")
    scoped = persons.filter(pk__in=enrollable_persons(user).values("pk"))
    with transaction.atomic():
        person_ids = list(scoped.values_list("pk", flat=True))
        existing = Enrollment.objects.filter(course=course, person__in=scoped.values("pk"))
        enrolled = set(existing.select_for_update().values_list("person_id", flat=True))
        updated = existing.exclude(due_date=due_date).update(due_date=due_date)
        new = [
            Enrollment(person_id=pk, course=course, due_date=due_date, assigned_by=user)
            for pk in person_ids
            if pk not in enrolled
        ]
        # A racing second assignment of the same person is absorbed by the unique constraint.
        Enrollment.objects.bulk_create(new, batch_size=BATCH_SIZE, ignore_conflicts=True)
    return EnrollResult(created=len(new), updated=updated, unchanged=len(enrolled) - updated)


def do_unenroll(enrollment: Enrollment) -> None:
    """Remove one enrollment. Study time, progress and certificates are kept."""
    enrollment.delete()


# --- Auto-enrollment rules -------------------------------------------------------------------


def due_date_for(
    due_from: str, due_days: int, supervision_start: dt.date, today: dt.date
) -> dt.date:
    """The due date a rule gives a person enrolled ``today``.

    Counted from the enrollment day, or from the start of supervision; when the latter has
    already passed by the time the person is enrolled, the person gets the full ``due_days``
    from today instead of a due date in the past."""
    if due_from == DueFrom.SUPERVISION_START:
        due = supervision_start + dt.timedelta(days=due_days)
        if due >= today:
            return due
    return today + dt.timedelta(days=due_days)


@dataclass
class RuleReport:
    rules: int = 0  # rules applied
    persons: int = 0  # persons the rules were applied to for the first time
    enrolled: int = 0  # enrollments created


def do_apply_rules(
    rules: Iterable[EnrollmentRule] | None = None,
    persons: QuerySet[Person] | None = None,
    today: dt.date | None = None,
) -> RuleReport:
    """Apply active rules of published courses (default: all) to the active persons of each
    rule's category (default: everyone) not yet covered by that rule.

    A person already enrolled in the rule's course keeps that enrollment as it is. Safe to
    run concurrently and again: a rule applies to a person once."""
    today = today or timezone.localdate()
    now = timezone.now()
    if rules is None:
        rules = EnrollmentRule.objects.all()
    report = RuleReport()
    for rule in rules:
        if not rule.active:
            continue
        course = CoursePage.objects.filter(pk=rule.course_id, live=True).first()
        if course is None:  # applies once the course is published
            continue
        report.rules += 1
        with transaction.atomic():
            candidates = (
                Person.objects.active()
                .filter(category=rule.category)
                .exclude(
                    pk__in=EnrollmentRuleApplication.objects.filter(rule=rule).values("person")
                )
            )
            if persons is not None:
                candidates = candidates.filter(pk__in=persons.values("pk"))
            rows = list(candidates.values_list("pk", "supervision_start"))
            if not rows:
                continue
            enrolled = set(
                Enrollment.objects.filter(
                    course=course, person_id__in=candidates.values("pk")
                ).values_list("person_id", flat=True)
            )
            new = [
                Enrollment(
                    person_id=pk,
                    course=course,
                    rule=rule,
                    due_date=due_date_for(rule.due_from, rule.due_days, start, today),
                )
                for pk, start in rows
                if pk not in enrolled
            ]
            Enrollment.objects.bulk_create(new, batch_size=BATCH_SIZE, ignore_conflicts=True)
            EnrollmentRuleApplication.objects.bulk_create(
                [
                    EnrollmentRuleApplication(rule=rule, person_id=pk, applied_at=now)
                    for pk, _start in rows
                ],
                batch_size=BATCH_SIZE,
                ignore_conflicts=True,
            )
        report.persons += len(rows)
        report.enrolled += len(new)
    return report


def do_apply_rule(rule: EnrollmentRule, today: dt.date | None = None) -> RuleReport:
    """Apply one rule to everyone it covers (called when an administrator saves it)."""
    return do_apply_rules([rule], today=today)


def do_apply_rules_to_persons(
    persons: QuerySet[Person], today: dt.date | None = None
) -> RuleReport:
    """Apply every rule to ``persons`` (called after persons are created or change category,
    e.g. by the roster import)."""
    return do_apply_rules(persons=persons, today=today)
