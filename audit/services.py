"""The one way to write and check the access log.

Every app records reads of sensitive records, exports, changes, sign-ins and denials with
``record_access``. Rows are chained: ``hash = HMAC(key, prev_hash | fields)``, so editing,
deleting or reordering a row breaks the chain, which ``verify_chain`` (and the
``verify_access_log`` command) detects.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Model
from django.http import Http404
from django.utils import timezone

from audit.models import AccessEvent, AccessLogHead, Action
from lib.net import client_ip
from people.roles import roles_of

GENESIS = "0" * 64


def _key() -> bytes:
    configured = getattr(settings, "ACCESS_LOG_KEY", "")
    if configured:
        return configured.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"access-log", hashlib.sha256).digest()


def _canonical(event: AccessEvent) -> bytes:
    fields = [
        event.prev_hash,
        event.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "" if event.user_id is None else str(event.user_id),
        event.username,
        event.role,
        event.action,
        event.object_type,
        event.object_id,
        "" if event.person_id is None else str(event.person_id),
        event.ip or "",
        "1" if event.success else "0",
        event.detail,
    ]
    return "\x1f".join(fields).encode()


def _text(value: object, limit: int) -> str:
    """Log text as given, minus NUL (PostgreSQL refuses it; the log must never fail)."""
    return str(value).replace("\x00", "\ufffd")[:limit]


def compute_hash(event: AccessEvent) -> str:
    return hmac.new(_key(), _canonical(event), hashlib.sha256).hexdigest()


def record_access(
    request=None,
    *,
    action: str,
    user=None,
    username: str = "",
    obj=None,
    object_type: str = "",
    object_id: str | int = "",
    person_id: int | None = None,
    success: bool = True,
    detail: str = "",
) -> AccessEvent:
    """Append one event. ``user`` defaults to the request's user; ``obj`` fills the object's
    type and id. Runs in its own savepoint and locks the chain's head row."""
    if user is None and request is not None:
        user = getattr(request, "user", None)
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    roles = sorted(roles_of(user)) if authenticated else []
    if authenticated and user.is_superuser:
        roles.append("superuser")
    with transaction.atomic():
        head, _ = AccessLogHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"last_hash": GENESIS}
        )
        event = AccessEvent(
            at=timezone.now(),
            user_id=user.pk if authenticated else None,
            username=_text(user.get_username() if authenticated else username, 150),
            role=",".join(roles)[:40],
            action=Action(action),
            object_type=_text(object_type, 60),
            object_id=_text(object_id, 64),
            person_id=person_id,
            ip=client_ip(request),
            success=success,
            detail=_text(detail, 255),
            prev_hash=head.last_hash,
        )
        event.hash = compute_hash(event)
        event.save()
        head.last_hash = event.hash
        head.count += 1
        head.save(update_fields=["last_hash", "count"])
    return event


@dataclass(frozen=True)
class Entry:
    """One event of ``record_access_many``: the object and what happened to it."""

    obj: Model
    person_id: int | None = None
    detail: str = ""


def record_access_many(
    request=None, *, action: str, entries: Sequence[Entry], user=None
) -> list[AccessEvent]:
    """One event per entry, by the same user with the same action, appended in order: the
    same rows and chain as ``record_access`` for each, with the chain's head locked once and
    the rows inserted together (four queries whatever their number, but SQLite's limit on
    parameters splits a long insert)."""
    if not entries:
        return []
    if user is None and request is not None:
        user = getattr(request, "user", None)
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    roles = sorted(roles_of(user)) if authenticated else []
    if authenticated and user.is_superuser:
        roles.append("superuser")
    username = _text(user.get_username() if authenticated else "", 150)
    role, ip = ",".join(roles)[:40], client_ip(request)
    with transaction.atomic():
        head, _ = AccessLogHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"last_hash": GENESIS}
        )
        at = timezone.now()
        events = []
        previous = head.last_hash
        for entry in entries:
            event = AccessEvent(
                at=at,
                user_id=user.pk if authenticated else None,
                username=username,
                role=role,
                action=Action(action),
                object_type=_text(entry.obj._meta.label_lower, 60),
                object_id=_text(entry.obj.pk, 64),
                person_id=entry.person_id,
                ip=ip,
                success=True,
                detail=_text(entry.detail, 255),
                prev_hash=previous,
            )
            event.hash = previous = compute_hash(event)
            events.append(event)
        AccessEvent.objects.bulk_create(events)
        head.last_hash = previous
        head.count += len(events)
        head.save(update_fields=["last_hash", "count"])
    return events


def record_denial(request, detail: str = "") -> AccessEvent:
    """Log that ``request`` was refused (the URL is the object)."""
    return record_access(
        request,
        action=Action.DENIED,
        object_type="url",
        object_id=request.path[:64],
        success=False,
        detail=detail or request.method,
    )


def access_logged(request, user, scoped, pk, *, person_field: str, action: str = Action.VIEW):
    """Fetch ``pk`` from ``scoped`` (a ``visible_to(user)`` queryset) and log the view.

    Outside the scope it answers 404 either way (existence is never revealed), and logs a
    denial when the object does exist. ``person_field`` names the person concerned ("pk" for
    a Person, "person_id" for records about one)."""
    model = scoped.model
    try:
        obj = scoped.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        person_id = (
            model._default_manager.filter(pk=pk).values_list(person_field, flat=True).first()
            if isinstance(pk, int)
            else None
        )
        if person_id is not None:
            record_access(
                request,
                user=user,
                action=Action.DENIED,
                object_type=model._meta.label_lower,
                object_id=pk,
                person_id=person_id,
                success=False,
            )
        raise Http404(f"No such {model._meta.model_name}") from None
    record_access(request, user=user, action=action, obj=obj, person_id=getattr(obj, person_field))
    return obj


@dataclass
class ChainReport:
    checked: int
    broken_at: int | None  # id of the first event that does not verify
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None and not self.reason


def verify_chain() -> ChainReport:
    """Recompute every hash in order; report the first break, and a missing tail."""
    previous = GENESIS
    checked = 0
    for event in AccessEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != previous:
            return ChainReport(checked, event.pk, "a preceding event is missing or altered")
        if not hmac.compare_digest(event.hash, compute_hash(event)):
            return ChainReport(checked, event.pk, "this event was altered")
        previous = event.hash
        checked += 1
    head = AccessLogHead.objects.filter(pk=1).first()
    if head is not None and (head.last_hash != previous or head.count != checked):
        return ChainReport(checked, None, "events at the end of the log are missing")
    return ChainReport(checked, None)
