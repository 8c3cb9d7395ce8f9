"""Demo questionnaires for ``seed_demo``: the shipped instruments, and PHQ-9 and GAD-7
assigned by counselor1 to the first three learners. Idempotent."""

from __future__ import annotations

from django.db import transaction

from assessments.models import Alert, Assignment, AssignmentReason
from assessments.services import do_load_instrument, instrument_files, read_instrument_file
from assessments.taking import (
    do_acknowledge_alert,
    do_assign,
    do_review,
    do_save_answer,
    do_submit,
)
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


# Results at every stage, for counselor1's caseload (learners 1-15): (login, instrument,
# answers as option indexes, stage). A partial list stays in progress; "submitted" waits for
# review; "signed" has the counselor's signed review (which drafts a plan, as in use);
# "critical" answered PHQ-9 item 9 and its alert is open; "acknowledged" is a critical
# answer the counselor has acknowledged and reviewed.
IN_PROGRESS, SUBMITTED, SIGNED, CRITICAL, ACKNOWLEDGED = (
    "in_progress",
    "submitted",
    "signed",
    "critical",
    "acknowledged",
)
RESULTS = [
    ("learner4", "phq9", [2, 2, 2, 1, 2, 1, 2, 1, 1], CRITICAL),
    ("learner6", "gad7", [1, 1, 0, 1, 0, 0, 1], SUBMITTED),
    ("learner12", "phq9", [2, 2, 1, 2, 1, 1, 1, 0, 0], SUBMITTED),
    ("learner8", "phq9", [1, 1, 1, 0, 1, 0, 0, 0, 0], SIGNED),
    ("learner9", "gad7", [2, 1, 2, 1, 1, 0, 1], SIGNED),
    ("learner13", "phq9", [2, 2, 2, 2, 1, 2, 1, 1, 2], ACKNOWLEDGED),
    ("learner10", "sds", [1, 0, 1, 1, 0, 2, 1, 0], IN_PROGRESS),
]
INTERPRETATION = {
    SIGNED: (
        "得分在正常或轻度范围，近期情绪总体稳定。建议保持规律作息，按计划参加集中教育。",
        "您最近的情绪总体稳定。请继续保持规律的作息，有需要时随时联系心理咨询师。",
    ),
    ACKNOWLEDGED: (
        "当日已电话联系本人，评估无即时危险；已安排每周一次心理咨询，并告知家属关注。",
        "我们已经和您通过电话。接下来每周会有一次心理咨询，您随时可以联系我们。",
    ),
}


@transaction.atomic
def seed_results() -> list[tuple[str, str]]:
    """Questionnaire results at every stage (``RESULTS``), through the services a learner and
    a counselor use. Idempotent: a person who already has the instrument is left alone."""
    counselor = User.objects.filter(username="counselor1").first()
    if counselor is None:
        return []
    for username, slug, answers, stage in RESULTS:
        person = Person.objects.filter(user__username=username).first()
        if (
            person is None
            or Assignment.objects.filter(
                person=person, instrument_version__instrument__slug=slug
            ).exists()
        ):
            continue
        assignment = do_assign(slug, person, counselor, AssignmentReason.PERIODIC)
        for number, option in enumerate(answers, 1):
            do_save_answer(assignment, number, option)
        if stage == IN_PROGRESS:
            continue
        result = do_submit(assignment)
        if stage == ACKNOWLEDGED:
            for alert in Alert.objects.filter(result=result):
                do_acknowledge_alert(alert, counselor)
        if stage in INTERPRETATION:
            interpretation, summary = INTERPRETATION[stage]
            do_review(result, counselor, interpretation, summary)
    return []
