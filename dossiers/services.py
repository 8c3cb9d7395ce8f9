"""The file's life: compile, review in rounds, return and resubmit, archive, read.

Naming as elsewhere: ``access_*`` fetch and check who asks, ``check_*`` validate, ``do_*``
write under the file's row lock. Every refusal is a ``DossierError`` whose message is in the
asking person's language (the active one); nothing is changed by a refused call.

A copy is written whole to a new private file first and recorded on the file's row (name and
SHA-256) in one transaction afterwards, so a crash halfway through compiling leaves the
previous copy, never half of a new one. An archived file is never compiled again; each read
checks its hash and refuses a file that no longer matches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError

from audit.models import Action
from audit.services import record_access
from dossiers.evidence import load_evidence
from dossiers.models import (
    Catalogue,
    Decision,
    Dossier,
    DossierProblem,
    DossierReview,
    DossierState,
)
from dossiers.pdf import Copy, FileInfo, render_copy
from dossiers.rules import Verdict, evaluate
from dossiers.schema import CatalogueDef, RoundDef
from dossiers.snapshot import read_snapshot
from lib.months import add_months
from lib.storage import private_storage
from people.models import Caseload, Person
from people.roles import Role, roles_of

logger = logging.getLogger(__name__)

FILE_FIELDS = {Copy.OFFICER: "officer_file", Copy.COUNSELOR: "counselor_file"}
HASH_FIELDS = {Copy.OFFICER: "officer_sha256", Copy.COUNSELOR: "counselor_sha256"}


class DossierError(Exception):
    """A refused action; ``str()`` is the message for the person who asked."""


class DossierNotFound(DossierError):
    """No such file, or not one the user may see (answered as 404)."""


class DossierTampered(DossierError):
    """A stored copy no longer matches its recorded SHA-256."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- Catalogue ------------------------------------------------------------------------------


def check_catalogue(definition: dict) -> CatalogueDef:
    """The definition validated, or ``DossierError`` naming where it is wrong."""
    try:
        return CatalogueDef.model_validate(definition)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "-"
        raise DossierError(
            _("The catalogue is not valid at %(where)s: %(what)s")
            % {"where": where, "what": first["msg"]}
        ) from None


class CatalogueUnchanged(DossierError):
    """The definition saved is the one in use; no version was added."""


def do_save_catalogue(definition: dict, *, by, note: str) -> Catalogue:
    """Save a new version (versions are never edited); it is in use from now on. Files
    already compiled keep the version they were compiled against. Refused without a note
    saying what changed, and (``CatalogueUnchanged``) when nothing did."""
    parsed = check_catalogue(definition)
    note = (note or "").strip()
    if not note:
        raise DossierError(_("Say in a few words what changed; nothing was saved."))
    data = parsed.model_dump(mode="json")
    with transaction.atomic():
        # Serialises concurrent saves: the second waits and takes the next number.
        current = Catalogue.objects.select_for_update().order_by("-version").first()
        if current is not None and current.parsed.model_dump(mode="json") == data:
            raise CatalogueUnchanged(_("Nothing changed; no new version was saved."))
        return Catalogue.objects.create(
            version=(current.version + 1) if current else 1,
            definition=data,
            note=note[:200],
            created_by=by,
        )


def do_restore_catalogue(earlier: Catalogue, *, by, note: str) -> Catalogue:
    """Make ``earlier`` current again: a new version with its sections and rounds (the
    versions in between stay as they were)."""
    note = (note or "").strip()
    if not note:
        raise DossierError(_("Say in a few words what changed; nothing was saved."))
    text = _("Version %(v)s made current again: %(note)s") % {"v": earlier.version, "note": note}
    return do_save_catalogue(earlier.definition, by=by, note=text)


# --- Compiling ------------------------------------------------------------------------------


def evaluate_catalogue(catalogue: CatalogueDef, snapshot) -> dict[str, Verdict]:
    return {s.key: evaluate(s.rule, s.params, snapshot) for s in catalogue.sections}


def _generated_by(user, operator: str = "") -> str:
    if user is not None:
        return user.get_full_name()
    return operator or _("Scheduled job")


@dataclass(frozen=True)
class _Compiled:
    catalogue: Catalogue
    verdicts: list[dict]
    names: dict[str, str]  # copy → stored name
    hashes: dict[str, str]
    at: dt.datetime
    by_name: str


def _compile_files(person: Person, by, compilation: int, operator: str = "") -> _Compiled:
    """Read, check and render both copies, and write them under new names. Nothing refers
    to the new files until ``_record`` stores their names."""
    catalogue = Catalogue.objects.current()
    if catalogue is None:
        raise DossierError(_("No file catalogue is defined."))
    parsed = catalogue.parsed
    # The evidence files are read after the records: a file replaced meanwhile is stored
    # under a new name, so the one the snapshot names is the one attached (or "missing").
    snapshot, evidence = load_evidence(read_snapshot(person))
    verdicts = evaluate_catalogue(parsed, snapshot)
    at = timezone.now()
    info = FileInfo(_generated_by(by, operator), at, catalogue.version, compilation)
    storage = private_storage()
    names: dict[str, str] = {}
    hashes: dict[str, str] = {}
    try:
        for copy in Copy:
            data = render_copy(snapshot, parsed, verdicts, copy, info, evidence)
            name = f"dossiers/{person.pk}/{uuid.uuid4().hex}-{copy.value}.pdf"
            names[copy] = storage.save(name, ContentFile(data))
            hashes[copy] = sha256(data)
    except BaseException:
        for name in names.values():
            storage.delete(name)
        raise
    stored = [
        {"section": key, "complete": v.complete, "missing": list(v.missing), "why": v.why}
        for key, v in verdicts.items()
    ]
    return _Compiled(catalogue, stored, names, hashes, at, _generated_by(by, operator))


def _record(dossier: Dossier, compiled: _Compiled, by) -> None:
    """Point ``dossier`` at the new copies (call inside its row lock)."""
    previous = [getattr(dossier, FILE_FIELDS[c]).name for c in Copy]
    for copy in Copy:
        setattr(dossier, FILE_FIELDS[copy], compiled.names[copy])
        setattr(dossier, HASH_FIELDS[copy], compiled.hashes[copy])
    dossier.catalogue = compiled.catalogue
    dossier.verdicts = compiled.verdicts
    dossier.compilation += 1
    dossier.generated_at = compiled.at
    dossier.generated_by = by
    dossier.generated_by_name = compiled.by_name
    dossier.state = DossierState.IN_ROUND
    dossier.round = max(dossier.round, 1)
    dossier.save()
    # The superseded copies go once the new ones are committed.
    storage = private_storage()
    transaction.on_commit(lambda: [storage.delete(name) for name in previous if name])


def _compile_into(dossier: Dossier, by, operator: str = "") -> Dossier:
    compiled = _compile_files(dossier.person, by, dossier.compilation + 1, operator)
    try:
        with transaction.atomic():
            locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
            if locked.state != DossierState.COMPILING:
                raise DossierError(_("The file changed meanwhile; nothing was compiled."))
            _record(locked, compiled, by)
    except BaseException:
        storage = private_storage()
        for name in compiled.names.values():
            storage.delete(name)
        raise
    return locked


def do_compile_dossier(person: Person, *, by=None, operator: str = "") -> Dossier:
    """Compile the person's file (first time, or again after a crash while compiling) and
    start round 1. Refused while it is in review (resubmit after a return) or archived.
    ``operator`` names who compiled it when ``by`` is no user (a command); without either,
    the file says the scheduled job did."""
    catalogue = Catalogue.objects.current()
    if catalogue is None:
        raise DossierError(_("No file catalogue is defined."))
    with transaction.atomic():
        dossier, _created = Dossier.objects.select_for_update().get_or_create(
            person=person, defaults={"catalogue": catalogue}
        )
        if dossier.state == DossierState.ARCHIVED:
            raise DossierError(_("This file is archived; it is never compiled again."))
        if dossier.state != DossierState.COMPILING:
            raise DossierError(
                _("This file is in review; it is compiled again when it is resubmitted.")
            )
    dossier.person = person
    return _compile_into(dossier, by, operator)


def do_compile_released(today: dt.date | None = None) -> dict[str, int]:
    """The scheduled job: compile the file of everyone whose supervision ended before
    ``today`` and who has none yet (the day after the end date, or later if a day was
    missed). One person's failure is logged and counted; the others still compile."""
    today = today or timezone.localdate()
    # A file left "compiling" by a crash is compiled again.
    persons = (
        Person.objects.filter(supervision_end__lt=today)
        .filter(Q(dossier__isnull=True) | Q(dossier__state=DossierState.COMPILING))
        .order_by("pk")
    )
    compiled = failed = 0
    for person in persons.iterator():
        try:
            do_compile_dossier(person)
        except Exception:
            logger.exception("compiling the file of person %s failed", person.pk)
            failed += 1
        else:
            compiled += 1
    return {"compiled": compiled, "failed": failed}


def is_released(person: Person, today: dt.date | None = None) -> bool:
    """Supervision ended before ``today`` (the daily job's rule)."""
    return person.supervision_end < (today or timezone.localdate())


def may_compile(user, person: Person) -> bool:
    """Who compiles a file on demand: the person's case officer, and administrators who see
    the person. ``do_compile_now`` checks again."""
    return (
        may_compile_seen(user, person)
        and Person.objects.visible_to(user).filter(pk=person.pk).exists()
    )


def may_compile_seen(user, person: Person) -> bool:
    """``may_compile`` for a person taken from ``Person.objects.visible_to(user)``."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    roles = roles_of(user)
    if Role.OFFICER in roles and person.case_officer_id == user.pk:
        return True
    return user.is_superuser or Role.ADMINISTRATOR in roles


def access_person_to_compile(user, pk: int) -> Person:
    """The person ``pk`` if ``user`` sees them, else ``DossierNotFound`` (404)."""
    person = Person.objects.visible_to(user).select_related("office").filter(pk=pk).first()
    if person is None:
        raise DossierNotFound(_("No such person."))
    return person


def check_compile_now(person: Person, user, today: dt.date | None = None) -> None:
    """Why ``user`` may not compile ``person``'s file now (``DossierError``), if they may not."""
    if not may_compile(user, person):
        raise DossierError(
            _("Only the person's case officer or an administrator compiles the file.")
        )
    if not is_released(person, today):
        raise DossierError(
            _(
                "%(name)s is still under supervision (until %(date)s); the file is compiled "
                "after release."
            )
            % {"name": person.full_name, "date": person.supervision_end.isoformat()}
        )
    state = Dossier.objects.filter(person=person).values_list("state", flat=True).first()
    if state == DossierState.ARCHIVED:
        raise DossierError(_("This file is archived; it is never compiled again."))
    if state in (DossierState.IN_ROUND, DossierState.RETURNED):
        raise DossierError(
            _("This file is in review; it is compiled again when it is resubmitted.")
        )


def do_compile_now(person: Person, user, *, request=None, today: dt.date | None = None) -> Dossier:
    """Compile a released person's file now, in the request (one person's file takes well
    under a second): staff need not wait for the daily job when there is no file yet or a
    compile was cut off. The same guarantees as ``do_compile_dossier`` (no half file, never an
    archived one). Every compile and every refusal is written to the access log."""
    log = {"request": request, "user": user, "object_type": "people.person", "person_id": person.pk}
    try:
        check_compile_now(person, user, today)
        dossier = do_compile_dossier(person, by=user)
    except DossierError as error:
        record_access(
            action=Action.CHANGE,
            success=False,
            object_id=person.pk,
            detail=f"file not compiled on demand: {error}",
            **log,
        )
        raise
    record_access(
        action=Action.CHANGE,
        request=request,
        user=user,
        obj=dossier,
        person_id=person.pk,
        detail=f"compiled on demand (compilation {dossier.compilation}); "
        f"officer sha256 {dossier.officer_sha256}; counselor sha256 {dossier.counselor_sha256}",
    )
    return dossier


# --- Rounds ---------------------------------------------------------------------------------


def current_round(dossier: Dossier) -> RoundDef:
    return dossier.catalogue.parsed.rounds[dossier.round - 1]


def _in_scope(user, person: Person, round_def: RoundDef) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if round_def.role not in roles_of(user):
        return False
    if round_def.scope == "case_officer":
        return person.case_officer_id == user.pk
    if round_def.scope == "office":
        return user.office_id is not None and user.office_id == person.office_id
    # "bureau": staff of an office at or above the person's office.
    return user.office_id is not None and person.office.path.startswith(user.office.path)


def check_reviewer(dossier: Dossier, user) -> RoundDef:
    round_def = current_round(dossier)
    if not _in_scope(user, dossier.person, round_def):
        raise DossierError(
            _("You may not decide this round (%(round)s): it is outside your role or scope.")
            % {"round": round_def.title()}
        )
    return round_def


def may_decide(user, dossier: Dossier) -> bool:
    """Whether ``user`` may decide the current round (for showing the form; ``do_pass`` and
    ``do_return`` check again under the lock)."""
    return (
        dossier.state == DossierState.IN_ROUND
        and _in_scope(user, dossier.person, current_round(dossier))
        and not dossier.reviews.filter(reviewer=user, decision=Decision.PASS).exists()
    )


def may_fix(user, dossier: Dossier) -> bool:
    return _may_fix(user, dossier.person)


def _locked(dossier: Dossier) -> Dossier:
    return (
        Dossier.objects.select_for_update()
        .select_related("person__office", "catalogue")
        .get(pk=dossier.pk)
    )


def _require_state(dossier: Dossier, state: str) -> None:
    if dossier.state != state:
        raise DossierError(
            _("This file is %(state)s; that cannot be done now.")
            % {"state": DossierState(dossier.state).label}
        )


def do_pass(dossier: Dossier, user, note: str = "") -> Dossier:
    """Pass the current round; after the last one the file is archived."""
    with transaction.atomic():
        dossier = _locked(dossier)
        _require_state(dossier, DossierState.IN_ROUND)
        round_def = check_reviewer(dossier, user)
        if dossier.problems.open().exists():
            raise DossierError(_("Problems are still open; the round cannot be passed."))
        if dossier.reviews.filter(reviewer=user, decision=Decision.PASS).exists():
            raise DossierError(_("You already passed another round of this file."))
        DossierReview.objects.create(
            dossier=dossier,
            round=dossier.round,
            round_key=round_def.key,
            compilation=dossier.compilation,
            reviewer=user,
            decision=Decision.PASS,
            note=note.strip()[:2000],
        )
        if dossier.round >= len(dossier.catalogue.parsed.rounds):
            _archive(dossier, user)
        else:
            dossier.round += 1
            dossier.save(update_fields=["round"])
    return dossier


def do_return(dossier: Dossier, user, problems: list[tuple[str, str]], note: str = "") -> Dossier:
    """Return the file with its problems, each ``(section key, text)``."""
    with transaction.atomic():
        dossier = _locked(dossier)
        _require_state(dossier, DossierState.IN_ROUND)
        round_def = check_reviewer(dossier, user)
        catalogue = dossier.catalogue.parsed
        cleaned = [(key, (text or "").strip()) for key, text in problems]
        if not cleaned or any(not text for _key, text in cleaned):
            raise DossierError(_("Name at least one problem, each with what is wrong."))
        unknown = [key for key, _text in cleaned if catalogue.section(key) is None]
        if unknown:
            raise DossierError(
                _("Unknown section: %(keys)s") % {"keys": ", ".join(sorted(set(unknown)))}
            )
        review = DossierReview.objects.create(
            dossier=dossier,
            round=dossier.round,
            round_key=round_def.key,
            compilation=dossier.compilation,
            reviewer=user,
            decision=Decision.RETURN,
            note=note.strip()[:2000],
        )
        DossierProblem.objects.bulk_create(
            DossierProblem(review=review, dossier=dossier, section=key, text=text[:2000])
            for key, text in cleaned
        )
        dossier.state = DossierState.RETURNED
        dossier.save(update_fields=["state"])
    return dossier


def _may_fix(user, person: Person) -> bool:
    """The person's own case officer fixes the record and resubmits."""
    return (
        getattr(user, "is_authenticated", False)
        and user.is_active
        and Role.OFFICER in roles_of(user)
        and person.case_officer_id == user.pk
    )


def do_resolve_problem(problem: DossierProblem, user, resolution: str) -> DossierProblem:
    """The case officer closes a problem: what was fixed, or why it cannot be."""
    resolution = (resolution or "").strip()
    with transaction.atomic():
        dossier = _locked(problem.dossier)
        if not _may_fix(user, dossier.person):
            raise DossierError(_("Only the person's case officer resolves the file's problems."))
        _require_state(dossier, DossierState.RETURNED)
        problem = DossierProblem.objects.select_for_update().get(pk=problem.pk)
        if problem.resolved_at is not None:
            raise DossierError(_("This problem is already resolved."))
        if not resolution:
            raise DossierError(_("Say what was fixed, or why it cannot be fixed."))
        problem.resolved_at = timezone.now()
        problem.resolved_by = user
        problem.resolution = resolution[:2000]
        problem.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    return problem


def do_resubmit(dossier: Dossier, user) -> Dossier:
    """After a return, with every problem resolved: compile again and restart the round."""
    with transaction.atomic():
        dossier = _locked(dossier)
        if not _may_fix(user, dossier.person):
            raise DossierError(_("Only the person's case officer resubmits the file."))
        _require_state(dossier, DossierState.RETURNED)
        if dossier.problems.open().exists():
            raise DossierError(_("Resolve every problem before resubmitting."))
        dossier.state = DossierState.COMPILING
        dossier.save(update_fields=["state"])
    return _compile_into(dossier, user)


def _archive(dossier: Dossier, user) -> None:
    """Freeze the file (inside its row lock): archived, kept until the retention date, and
    its hashes written to the access log."""
    now = timezone.now()
    dossier.state = DossierState.ARCHIVED
    dossier.archived_at = now
    dossier.retain_until = add_months(
        timezone.localdate(now), 12 * settings.DOSSIER_RETENTION_YEARS
    )
    dossier.save(update_fields=["state", "archived_at", "retain_until"])
    record_access(
        action=Action.CHANGE,
        user=user,
        obj=dossier,
        person_id=dossier.person_id,
        detail=f"archived; officer sha256 {dossier.officer_sha256}; "
        f"counselor sha256 {dossier.counselor_sha256}",
    )


# --- Reading --------------------------------------------------------------------------------


def may_read_copy(user, dossier: Dossier, copy: str) -> bool:
    if user is None:  # a management command run by the server's operator
        return True
    if not Dossier.objects.visible_to(user).filter(pk=dossier.pk).exists():
        return False
    if user.is_superuser:
        return True
    roles = roles_of(user)
    if copy == Copy.OFFICER:
        return bool(roles & {Role.OFFICER, Role.ADMINISTRATOR})
    # Answers and scores: the person's counselors, or whoever was granted results.
    return (
        Role.COUNSELOR in roles
        and Caseload.objects.filter(person_id=dossier.person_id, counselor=user).exists()
    ) or user.has_perm("assessments.view_result")


def access_dossier(user, pk: int) -> Dossier:
    dossier = (
        Dossier.objects.visible_to(user).select_related("person__office", "catalogue").filter(pk=pk)
    ).first()
    if dossier is None:
        raise DossierNotFound(_("No such file."))
    return dossier


def read_checked(dossier: Dossier, copy: str, log: dict) -> bytes:
    """The stored bytes of ``copy`` once they match its recorded SHA-256; otherwise
    ``DossierTampered``, with the mismatch written to the access log (``log``: the
    ``record_access`` arguments naming who asked). Call after checking who may read it."""
    field = getattr(dossier, FILE_FIELDS[copy])
    expected = getattr(dossier, HASH_FIELDS[copy])
    if not field.name:
        raise DossierError(_("This file has not been compiled yet."))
    try:
        with private_storage().open(field.name, "rb") as handle:
            data = handle.read()
    except OSError:
        data = None
    if data is None or sha256(data) != expected:
        record_access(
            action=Action.VIEW,
            success=False,
            detail=f"{Copy(copy).value} copy does not match its sha256 {expected}",
            **log,
        )
        raise DossierTampered(
            _(
                "The stored file does not match its recorded fingerprint (SHA-256); it is not "
                "shown. Tell the administrator."
            )
        )
    return data


def read_copy(dossier: Dossier, copy: str, *, user=None, request=None, username: str = "") -> bytes:
    """The stored bytes of one copy, after checking who asks and the SHA-256. Every read,
    refusal and mismatch is written to the access log."""
    copy = Copy(copy)
    log = {
        "request": request,
        "user": user,
        "username": username,
        "obj": dossier,
        "person_id": dossier.person_id,
    }
    if not may_read_copy(user, dossier, copy):
        record_access(action=Action.DENIED, success=False, detail=f"{copy.value} copy", **log)
        raise DossierNotFound(_("No such file."))
    data = read_checked(dossier, copy, log)
    expected = getattr(dossier, HASH_FIELDS[copy])
    record_access(
        action=Action.EXPORT if dossier.state == DossierState.ARCHIVED else Action.VIEW,
        detail=f"{copy.value} copy sha256 {expected}",
        **log,
    )
    return data
