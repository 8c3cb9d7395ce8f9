"""Demo questionnaires for ``seed_demo``: the shipped instruments, and PHQ-9 and GAD-7
assigned by counselor1 to the first three learners. Idempotent."""

from __future__ import annotations

from django.db import transaction

from assessments.models import Assignment, AssignmentReason
from assessments.services import do_load_instrument, instrument_files, read_instrument_file
from assessments.taking import do_assign
from people.models import Person, User

DEMO_ASSIGNMENTS = ("phq9", "gad7")
DEMO_LEARNERS = ("learner1", "learner2", "learner3")


@transaction.atomic
def seed_assessments() -> list[tuple[str, str]]:
    for path in instrument_files():
        do_load_instrument(read_instrument_file(path))
    counselor = User.objects.filter(username="counselor1").first()
    for person in Person.objects.filter(user__username__in=DEMO_LEARNERS):
        for slug in DEMO_ASSIGNMENTS:
            if Assignment.objects.filter(
                person=person, instrument_version__instrument__slug=slug
            ).exists():
                continue
            do_assign(slug, person, counselor, AssignmentReason.INTAKE)
    return []
