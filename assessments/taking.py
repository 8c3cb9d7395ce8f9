"""Assigning, taking, submitting and reviewing questionnaires; critical alerts.

House contract: ``access_*`` fetches and checks permission (404 otherwise), ``do_*`` writes and
sends its messages after commit (``lib.broadcast``). Views and commands are thin callers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from assessments.models import (
    OPEN_STATUSES,
    Alert,
    Assignment,
    AssignmentReason,
    AssignmentStatus,
    InstrumentVersion,
    Response,
    Result,
    Review,
)
from assessments.schema import InstrumentDef
from assessments.scoring import ENGINE_VERSION, score
from assessments.skips import shown_items, without_hidden
from audit.models import Action
from audit.services import access_logged
from lib.broadcast import send_to_user
from notifications.models import NotificationKind
from notifications.services import notify
from people.models import Office, Person, User
from people.roles import Role, has_role

ESCALATE_AFTER = dt.timedelta(hours=24)


class AssessmentError(Exception):
    """A request that cannot be carried out; ``str()`` is a clear, user-facing reason."""


class AlreadySubmitted(AssessmentError):
    pass


class IncompleteResponse(AssessmentError):
    def __init__(self, missing: list[int]) -> None:
        self.missing = missing
        super().__init__(f"items not answered yet: {', '.join(map(str, missing))}")


# --- Assigning ---------------------------------------------------------------------------------


def do_assign(
    instrument_slug: str,
    person: Person,
    by: User | None,
    reason: str = AssignmentReason.AD_HOC,
    due: dt.date | None = None,
    opens_on: dt.date | None = None,
) -> Assignment:
    """Assign the latest published version of ``instrument_slug`` to ``person``.

    ``by`` is the counselor (``None`` for a schedule); callers check that ``by`` may reach the
    person. A second open assignment of the same instrument is refused. ``opens_on`` (a
    planned retest) keeps it from the person until that day; ``None`` opens it at once."""
    if reason not in AssignmentReason.values:
        raise AssessmentError(f"unknown reason {reason!r}")
    version = (
        InstrumentVersion.objects.published().for_slug(instrument_slug).order_by("-version").first()
    )
    if version is None:
        raise AssessmentError(f"unknown instrument {instrument_slug!r}")
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()
        if Assignment.objects.filter(
            person=person,
            instrument_version__instrument=version.instrument,
            status__in=OPEN_STATUSES,
        ).exists():
            raise AssessmentError(f"{instrument_slug} is already assigned and not yet submitted")
        return Assignment.objects.create(
            person=person,
            instrument_version=version,
            reason=reason,
            assigned_by=by,
            due=due,
            opens_on=opens_on,
        )


# --- Taking ------------------------------------------------------------------------------------


def access_assignment_for_learner(user, pk) -> Assignment:
    """The signed-in person's own assignment ``pk``; 404 for anyone else's or a missing one."""
    try:
        return (
            Assignment.objects.for_learner(user)
            .select_related("instrument_version__instrument", "person")
            .get(pk=pk)
        )
    except (Assignment.DoesNotExist, ValueError, TypeError):
        raise Http404("No such questionnaire") from None


def answers_of(assignment: Assignment) -> list[int | None]:
    """The answers so far, one entry per item (``None`` = not answered)."""
    count = len(assignment.instrument_version.definition["items"])
    response = Response.objects.filter(assignment=assignment).first()
    stored = list(response.answers) if response is not None else []
    return (stored + [None] * count)[:count]


def first_unanswered(answers: list[int | None], shown: list[bool] | None = None) -> int | None:
    """1-based number of the first unanswered item the person is asked (``shown``, from
    ``skips.shown_items``; every item when not given), ``None`` when all are answered."""
    for index, answer in enumerate(answers):
        if answer is None and (shown is None or shown[index]):
            return index + 1
    return None


def shown_neighbour(shown: list[bool], number: int, step: int) -> int | None:
    """The next (``step`` 1) or previous (``step`` -1) shown item from item ``number``."""
    candidate = number + step
    while 1 <= candidate <= len(shown):
        if shown[candidate - 1]:
            return candidate
        candidate += step
    return None


def check_answer(definition: InstrumentDef, item_number, option_index) -> tuple[int, int]:
    try:
        number = int(item_number)
        option = int(option_index)
    except (TypeError, ValueError):
        raise AssessmentError("the item and the option must be numbers") from None
    if isinstance(item_number, bool) or isinstance(option_index, bool):
        raise AssessmentError("the item and the option must be numbers")
    if not 1 <= number <= len(definition.items):
        raise AssessmentError(f"there is no item {number} (items are 1..{len(definition.items)})")
    options = definition.items[number - 1].options
    if not 0 <= option < len(options):
        raise AssessmentError(
            f"item {number} has no option {option} (options are 0..{len(options) - 1})"
        )
    return number, option


def do_save_answer(assignment: Assignment, item_number, option_index) -> Response:
    """Store one answer exactly as given (a later answer to the same item replaces it). An
    answer that hides later items (skip logic) clears their answers: a question the person
    is no longer asked has no answer.

    Invalid item or option: AssessmentError and nothing stored."""
    definition = assignment.instrument_version.as_definition()
    number, option = check_answer(definition, item_number, option_index)
    with transaction.atomic():
        locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if locked.status not in OPEN_STATUSES:
            raise AlreadySubmitted("this questionnaire is already submitted or cancelled")
        response, _ = Response.objects.get_or_create(assignment=locked)
        answers = (list(response.answers) + [None] * len(definition.items))[: len(definition.items)]
        answers[number - 1] = option
        response.answers = without_hidden(definition, answers)
        response.save(update_fields=["answers", "updated_at"])
        if locked.status == AssignmentStatus.OPEN:
            locked.status = AssignmentStatus.IN_PROGRESS
            locked.save(update_fields=["status"])
        assignment.status = locked.status
    return response


def _max_severity(definition: InstrumentDef, scales: dict) -> int | None:
    severities = []
    for scale in definition.scales:
        band = scale.band_for(scales[scale.code]["score"])
        if band is not None:
            severities.append(band.severity)
    return max(severities, default=None)


def do_submit(assignment: Assignment) -> Result:
    """Check completeness, score once with the assignment's instrument version, store the
    immutable Result (and an Alert for critical items) in one transaction.

    A second submit raises AlreadySubmitted; any failure leaves no partial rows."""
    with transaction.atomic():
        locked = (
            Assignment.objects.select_for_update()
            .select_related("instrument_version__instrument", "person")
            .get(pk=assignment.pk)
        )
        if locked.status == AssignmentStatus.SUBMITTED:
            raise AlreadySubmitted("this questionnaire has already been submitted")
        if locked.status == AssignmentStatus.CANCELLED:
            raise AssessmentError("this questionnaire was cancelled")
        definition = locked.instrument_version.as_definition()
        response = Response.objects.filter(assignment=locked).first()
        stored = list(response.answers) if response is not None else []
        answers = (stored + [None] * len(definition.items))[: len(definition.items)]
        shown = shown_items(definition, answers)
        missing = [
            index + 1
            for index, (answer, visible) in enumerate(zip(answers, shown, strict=True))
            if answer is None and visible
        ]
        if missing:
            raise IncompleteResponse(missing)
        scored = score(definition, answers).as_dict()
        now = timezone.now()
        result = Result.objects.create(
            response=response,
            person=locked.person,
            instrument_version=locked.instrument_version,
            engine_version=ENGINE_VERSION,
            scales=scored["scales"],
            critical_items=scored["critical_items"],
            critical=bool(scored["critical_items"]),
            max_severity=_max_severity(definition, scored["scales"]),
            created_at=now,
        )
        response.submitted_at = now
        response.save(update_fields=["submitted_at", "updated_at"])
        locked.status = AssignmentStatus.SUBMITTED
        locked.save(update_fields=["status"])
        if result.critical_items:
            _raise_alert(result)
    assignment.status = AssignmentStatus.SUBMITTED
    return result


def _raise_alert(result: Result) -> Alert:
    alert = Alert.objects.create(
        result=result,
        person=result.person,
        critical_items=result.critical_items,
        created_at=result.created_at,
    )
    payload = _alert_payload(alert, result)
    counselors = list(
        User.objects.filter(caseloads__person_id=result.person_id).order_by("pk").distinct()
    )
    for counselor in counselors:
        send_to_user(counselor.pk, {"type": "alert", **payload})
    for counselor in counselors:
        _notify_alert(counselor, alert, payload["url"], escalated=False)
    return alert


def _notify_alert(user: User, alert: Alert, url: str, *, escalated: bool) -> None:
    """The stored notification of an alert: a plain "needs your attention" and the link, never
    a name, an answer, a score or a band (the linked page checks scope and logs the view).
    Stored as source texts: each reader sees it in their own language."""
    if escalated:
        title = gettext_noop("A questionnaire result still needs follow-up")
        body = gettext_noop(
            "A questionnaire result that needs attention has not been acknowledged by a "
            "counselor for more than a day. Please open it and make sure someone follows up."
        )
    else:
        title = gettext_noop("A questionnaire result needs your attention")
        body = gettext_noop("Please open the result and acknowledge it.")
    notify(
        user,
        kind=NotificationKind.ALERT,
        title=title,
        body=body,
        url=url,
        params={},
        dedupe_key=f"assessments:alert:{alert.pk}:{'escalated' if escalated else 'raised'}",
    )


def _alert_payload(alert: Alert, result: Result) -> dict:
    """What a socket hears: ids, the instrument and item numbers, a link. No names, no
    answers: the linked page checks the reader's scope and logs the view."""
    return {
        "alert": alert.pk,
        "result": result.pk,
        "person": result.person_id,
        "instrument": result.instrument_version.instrument.slug,
        "critical_items": list(alert.critical_items),
        "url": reverse("assessments_result_detail", args=[result.pk]),
    }


# --- Alerts ------------------------------------------------------------------------------------


def do_acknowledge_alert(alert: Alert, user: User) -> Alert:
    """Record that ``user`` (who may see the result) has seen the alert. Idempotent."""
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.acknowledged_at is None:
            locked.acknowledged_by = user
            locked.acknowledged_at = timezone.now()
            locked.save(update_fields=["acknowledged_by", "acknowledged_at"])
    alert.acknowledged_by_id = locked.acknowledged_by_id
    alert.acknowledged_at = locked.acknowledged_at
    return locked


def bureau_administrators(person: Person):
    """Active administrators whose office is the person's office or one above it."""
    office = person.office
    offices = [
        office.pk,
        *Office.objects.filter(
            path__in=[
                office.path[:i] for i in range(Office.steplen, len(office.path), Office.steplen)
            ]
        ).values_list("pk", flat=True),
    ]
    return User.objects.filter(
        groups__name=Role.ADMINISTRATOR, is_active=True, office_id__in=offices
    ).distinct()


def escalate_overdue_alerts(now: dt.datetime | None = None) -> int:
    """Alerts unacknowledged for 24 h: mark escalated and tell the bureau's administrators.
    Each alert escalates once. Returns how many were escalated."""
    now = now or timezone.now()
    escalated = 0
    due = Alert.objects.filter(
        acknowledged_at__isnull=True,
        escalated_at__isnull=True,
        created_at__lte=now - ESCALATE_AFTER,
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            alert = (
                Alert.objects.select_for_update()
                .select_related("result__instrument_version__instrument", "person__office")
                .filter(pk=pk, acknowledged_at__isnull=True, escalated_at__isnull=True)
                .first()
            )
            if alert is None:
                continue
            alert.escalated_at = now
            alert.save(update_fields=["escalated_at"])
            payload = _alert_payload(alert, alert.result)
            for admin in bureau_administrators(alert.person).order_by("pk"):
                send_to_user(admin.pk, {"type": "alert.escalated", **payload})
                _notify_alert(admin, alert, payload["url"], escalated=True)
            escalated += 1
    return escalated


# --- Review ------------------------------------------------------------------------------------


def access_result_for_user(user, pk, request=None, action: str = Action.VIEW) -> Result:
    """Result ``pk`` if ``user`` may see it (own counselor, or administrator holding
    ``assessments.view_result``); otherwise 404, logged as a denial when it exists.
    A successful lookup is logged with ``action`` (a view, or an export)."""
    scoped = Result.objects.visible_to(user).select_related(
        "person__office", "instrument_version__instrument", "response", "alert", "review"
    )
    return access_logged(request, user, scoped, pk, person_field="person_id", action=action)


# Called with each review once it is signed. A higher layer registers its handler in its
# ``AppConfig.ready()`` (plans drafts or updates the person's plan: only reviewed results feed
# it), so assessments never imports it.
ReviewSignedHandler = Callable[[Review], object]
REVIEW_SIGNED_HANDLERS: list[ReviewSignedHandler] = []


def register_review_signed(handler: ReviewSignedHandler) -> None:
    if handler not in REVIEW_SIGNED_HANDLERS:
        REVIEW_SIGNED_HANDLERS.append(handler)


def do_review(
    result: Result, counselor: User, interpretation: str, released_summary: str = ""
) -> Review:
    """The counselor's signed interpretation; a signed review is final. The registered
    review-signed handlers run after it is saved (``register_review_signed``)."""
    interpretation = (interpretation or "").strip()
    if not interpretation:
        raise AssessmentError("the interpretation must not be empty")
    if (
        not has_role(counselor, Role.COUNSELOR)
        or not Result.objects.visible_to(counselor).filter(pk=result.pk).exists()
    ):
        raise AssessmentError("only one of the person's counselors can sign a review")
    with transaction.atomic():
        Result.objects.select_for_update().filter(pk=result.pk).values_list("pk").first()
        review = Review.objects.filter(result=result).first()
        if review is not None and review.signed_at is not None:
            raise AssessmentError("this result has already been reviewed and signed")
        review = review or Review(result=result)
        review.counselor = counselor
        review.interpretation = interpretation
        review.released_summary = (released_summary or "").strip()
        review.signed_at = timezone.now()
        review.save()
    for handler in REVIEW_SIGNED_HANDLERS:
        handler(review)
    return review
