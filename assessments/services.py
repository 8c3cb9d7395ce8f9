"""Instrument library: reading files, loading them into the database, finding definitions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.db import DatabaseError, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext
from pydantic import ValidationError

from assessments.models import (
    OPEN_STATUSES,
    Alert,
    Assignment,
    AssignmentStatus,
    Instrument,
    InstrumentVersion,
    Response,
    Result,
    Review,
)
from assessments.schema import InstrumentDef
from assessments.scoring import score_frame
from audit.models import Action
from audit.services import record_access

INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"


class InstrumentFileError(Exception):
    """A file that is not valid JSON or does not match the schema; ``str()`` lists why."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(problems))


class ImmutableVersionError(Exception):
    """The definition of an already published (slug, version) would change."""


class UnknownInstrument(LookupError):
    pass


def read_instrument_file(path: Path) -> InstrumentDef:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InstrumentFileError(path, [f"cannot read file: {exc.strerror}"]) from exc
    try:
        return InstrumentDef.model_validate_json(text)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or '(file)'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        ]
        raise InstrumentFileError(path, problems) from exc


def canonical_definition(definition: InstrumentDef) -> dict[str, Any]:
    """The stored form: aliases (``zh-hans``), defaults left out so they hash stably."""
    return definition.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def definition_checksum(definition: InstrumentDef) -> str:
    """SHA-256 of the canonical form without ``notes``: notes explain, they never score."""
    scored = {k: v for k, v in canonical_definition(definition).items() if k != "notes"}
    canonical = json.dumps(scored, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def do_load_instrument(definition: InstrumentDef) -> str:
    """Store one validated definition; return "created", "unchanged" or "updated".

    An existing published (slug, version) with a different checksum is refused with
    ImmutableVersionError; an unpublished draft version may be overwritten. A new latest
    version takes over the open (unsubmitted) assignments of older versions whose stored
    answers mean the same there (``same_answer_layout``), so a corrected critical rule (SDS
    v2) applies to questionnaires already handed out; the others finish on their version.
    """
    checksum = definition_checksum(definition)
    with transaction.atomic():
        instrument, _ = Instrument.objects.select_for_update().get_or_create(
            slug=definition.slug, defaults={"title": definition.title.model_dump(by_alias=True)}
        )
        existing = (
            InstrumentVersion.objects.select_for_update()
            .filter(instrument=instrument, version=definition.version)
            .first()
        )
        if existing is not None and existing.checksum == checksum:
            return "unchanged"
        if existing is not None and existing.published:
            raise ImmutableVersionError(
                f"{definition.slug} version {definition.version} is published and its "
                "definition differs from the stored one; published versions are immutable. "
                f'Bump "version" to {_next_version(instrument)} to publish the change.'
            )
        if existing is not None:
            existing.definition = canonical_definition(definition)
            existing.checksum = checksum
            existing.loaded_at = timezone.now()
            existing.save(update_fields=["definition", "checksum", "loaded_at"])
            status = "updated"
        else:
            created = InstrumentVersion.objects.create(
                instrument=instrument,
                version=definition.version,
                definition=canonical_definition(definition),
                checksum=checksum,
                published=True,
            )
            status = "created"
        latest = instrument.versions.order_by("-version").values_list("version", flat=True)[0]
        if definition.version == latest:
            instrument.title = definition.title.model_dump(by_alias=True)
            instrument.save(update_fields=["title"])
            if status == "created":
                _move_open_assignments(created, definition)
        return status


def same_answer_layout(old: InstrumentDef, new: InstrumentDef) -> bool:
    """Whether an answer vector of ``old`` means the same answers in ``new``: the same items
    in the same order with the same options (texts and labels). Scoring may differ."""
    if len(old.items) != len(new.items):
        return False
    return all(
        a.text == b.text and [o.label for o in a.options] == [o.label for o in b.options]
        for a, b in zip(old.items, new.items, strict=True)
    )


def _move_open_assignments(version: InstrumentVersion, definition: InstrumentDef) -> None:
    older = InstrumentVersion.objects.filter(
        instrument_id=version.instrument_id, version__lt=version.version
    )
    movable = [old.pk for old in older if same_answer_layout(old.as_definition(), definition)]
    Assignment.objects.filter(instrument_version_id__in=movable, status__in=OPEN_STATUSES).update(
        instrument_version=version
    )


def _next_version(instrument: Instrument) -> int:
    return max(instrument.versions.values_list("version", flat=True), default=0) + 1


def instrument_files(paths: Iterable[Path] = ()) -> list[Path]:
    """The shipped files, then ``paths`` (directories expand to their ``*.json``)."""
    found: list[Path] = sorted(INSTRUMENTS_DIR.glob("*.json"))
    for path in paths:
        path = Path(path)
        found.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def get_instrument_definition(slug: str) -> InstrumentDef:
    """The definition to score ``slug`` with.

    The highest published version in the database wins; when the database has none (the
    library was never loaded, or its tables do not exist yet) the highest version among the
    shipped files is used, so scoring works straight from a checkout.
    """
    try:
        row = (
            InstrumentVersion.objects.published()
            .for_slug(slug)
            .order_by("-version")
            .only("definition")
            .first()
        )
    except DatabaseError:
        row = None
    if row is not None:
        return row.as_definition()
    return _definition_from_disk(slug)


def _definition_from_disk(slug: str) -> InstrumentDef:
    best: tuple[int, Path] | None = None
    for path in INSTRUMENTS_DIR.glob("*.json"):
        try:
            head = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # load_instruments reports broken files
        if not isinstance(head, dict) or head.get("slug") != slug:
            continue
        version = head.get("version")
        if isinstance(version, int) and (best is None or version > best[0]):
            best = (version, path)
    if best is None:
        raise UnknownInstrument(f"unknown instrument {slug!r}")
    return read_instrument_file(best[1])


# --- Batch re-scoring of stored responses ------------------------------------------------------


def stored_answers_frame(version: InstrumentVersion, responses=None) -> pd.DataFrame:
    """The submitted answers to ``version`` as a frame: index = response id, one column per
    item (option indexes, NaN = unanswered). One query; the JSON is parsed in one call rather
    than once per row. ``responses`` narrows the set (a ``Response`` queryset)."""
    if responses is None:
        responses = Response.objects.all()
    rows = list(
        responses.filter(assignment__instrument_version=version, submitted_at__isnull=False)
        .order_by("pk")
        .values_list("pk", Cast("answers", TextField()))
    )
    width = len(version.definition["items"])
    if not rows:
        return pd.DataFrame(np.empty((0, width)), columns=range(width))
    ids, texts = zip(*rows, strict=True)
    if width > 0 and all(text.count(",") == width - 1 for text in texts):
        # Every row holds ``width`` entries: parse them as one flat JSON array (much faster
        # than a list of lists); None (unanswered) becomes NaN.
        flat = json.loads("[" + ",".join(text.strip()[1:-1] for text in texts) + "]")
        if len(flat) == len(texts) * width:
            values = np.array(flat, dtype=float).reshape(len(texts), width)
            return pd.DataFrame(values, index=list(ids), columns=range(width))
    # Older or partial rows of other lengths: pad with NaN.
    parsed = json.loads("[" + ",".join(texts) + "]")
    frame = pd.DataFrame(parsed, index=list(ids), dtype=float)
    return frame.reindex(columns=range(width))


def rescore_stored(version: InstrumentVersion, responses=None) -> pd.DataFrame:
    """Score every submitted response to ``version`` again with ``score_frame`` (the same
    engine as ``do_submit``), e.g. to check stored results or compare engine versions."""
    return score_frame(version.as_definition(), stored_answers_frame(version, responses))


# --- Cancelling an assignment ----------------------------------------------------------------


class AssignmentNotPending(Exception):
    """The assignment was already answered or cancelled; ``str()`` says which, plainly."""


def do_cancel_assignment(assignment, *, by, reason: str):
    """Cancel a pending (not yet submitted) assignment as ``by`` (``None`` = the system), for
    ``reason``, and log it as a change of the person's record. Answers already given stay
    stored; the person can no longer send them. Callers check that ``by`` may reach the
    person.

    A submitted or already cancelled assignment raises ``AssignmentNotPending`` and nothing
    changes (checked under the row lock, so a racing submit wins or loses cleanly)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("a reason is required to cancel an assignment")
    with transaction.atomic():
        locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if locked.status not in OPEN_STATUSES:
            if locked.status == AssignmentStatus.SUBMITTED:
                message = gettext(
                    "This questionnaire has already been answered; it cannot be cancelled."
                )
            else:
                message = gettext("This questionnaire has already been cancelled.")
            raise AssignmentNotPending(message)
        before = locked.status
        locked.status = AssignmentStatus.CANCELLED
        locked.save(update_fields=["status"])
        record_access(
            None,
            action=Action.CHANGE,
            user=by,
            username="system" if by is None else "",
            obj=locked,
            person_id=locked.person_id,
            detail=f"assignment cancelled (was {before}): {reason}"[:255],
        )
    assignment.status = AssignmentStatus.CANCELLED
    return assignment


# --- For other apps: the learner's dashboard card and the subject-access export ----------------


def learner_questionnaires(user) -> list:
    """The signed-in person's open assignments, oldest first (one query)."""
    return list(
        Assignment.objects.for_learner(user)
        .open()
        .select_related("instrument_version__instrument")
        .order_by("assigned_at", "pk")
    )


def collect_assessment_data(person) -> dict[str, Any]:
    """``PERSON_DATA_COLLECTORS`` entry: everything the assessments app holds about a person."""

    def when(value):
        return None if value is None else timezone.localtime(value).isoformat()

    assignments = []
    for a in (
        Assignment.objects.filter(person=person)
        .select_related("instrument_version__instrument", "response")
        .order_by("assigned_at", "pk")
    ):
        response = getattr(a, "response", None)
        assignments.append(
            {
                "id": a.pk,
                "instrument": a.instrument_version.instrument.slug,
                "version": a.instrument_version.version,
                "reason": a.reason,
                "status": a.status,
                "assigned_at": when(a.assigned_at),
                "due": a.due.isoformat() if a.due else None,
                "answers": list(response.answers) if response else [],
                "submitted_at": when(response.submitted_at) if response else None,
            }
        )
    results = [
        {
            "id": r.pk,
            "assignment": r.response.assignment_id,
            "instrument": r.instrument_version.instrument.slug,
            "version": r.instrument_version.version,
            "engine_version": r.engine_version,
            "scales": r.scales,
            "critical_items": r.critical_items,
            "created_at": when(r.created_at),
        }
        for r in Result.objects.filter(person=person)
        .select_related("instrument_version__instrument", "response")
        .order_by("created_at", "pk")
    ]
    alerts = [
        {
            "id": a.pk,
            "result": a.result_id,
            "critical_items": a.critical_items,
            "created_at": when(a.created_at),
            "acknowledged_at": when(a.acknowledged_at),
            "escalated_at": when(a.escalated_at),
        }
        for a in Alert.objects.filter(person=person).order_by("created_at", "pk")
    ]
    reviews = [
        {
            "result": r.result_id,
            "counselor": r.counselor.get_full_name(),
            "interpretation": r.interpretation,
            "released_summary": r.released_summary,
            "signed_at": when(r.signed_at),
        }
        for r in Review.objects.filter(result__person=person)
        .select_related("counselor")
        .order_by("result__created_at", "pk")
    ]
    return {
        "assessments": {
            "assignments": assignments,
            "results": results,
            "alerts": alerts,
            "reviews": reviews,
        }
    }
