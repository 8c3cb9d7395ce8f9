"""Notifications: store one, push it to the user's sockets, mark it read.

Other apps call ``notify()``; it is the only way a notification is created. The signature is
a contract (``lectures``, ``assessments`` and ``plans`` use it):

    notify(user, *, kind, title, body="", url="", dedupe_key=None, params=None)
        -> Notification | None

With ``params`` (a dict, possibly empty) ``title`` and ``body`` are untranslated source texts
(mark them with ``gettext_noop``) and ``%(name)s`` placeholders: the inbox translates them
into the reader's language each time it is shown. Without it they are stored as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext

from lib.broadcast import send_to_user, send_to_users
from notifications.models import Notification, NotificationKind

TITLE_MAX = 200
BODY_MAX = 2000
URL_MAX = 500
DEDUPE_KEY_MAX = 200
# The header badge shows the unread count on every page; it is cached per user so pages keep
# their query budget (a lesson page: ≤ 10). This process forgets it at once on any change;
# another worker's cache may show the old count for up to this long.
UNREAD_CACHE_SECONDS = 30


def check_notification(*, kind: str, title: str, body: str, url: str, dedupe_key) -> str:
    """Raise ValueError with a clear reason for anything that cannot be stored; return the
    title stripped."""
    if kind not in NotificationKind.values:
        raise ValueError(
            f"unknown notification kind {kind!r} (one of {', '.join(NotificationKind.values)})"
        )
    title = (title or "").strip()
    if not title:
        raise ValueError("a notification needs a title")
    if len(title) > TITLE_MAX:
        raise ValueError(f"the title is longer than {TITLE_MAX} characters")
    if len(body or "") > BODY_MAX:
        raise ValueError(f"the text is longer than {BODY_MAX} characters")
    if len(url or "") > URL_MAX:
        raise ValueError(f"the link is longer than {URL_MAX} characters")
    if dedupe_key is not None and (
        not isinstance(dedupe_key, str) or not dedupe_key or len(dedupe_key) > DEDUPE_KEY_MAX
    ):
        raise ValueError(f"dedupe_key must be a non-empty string of at most {DEDUPE_KEY_MAX}")
    for value in (title, body or "", url or "", dedupe_key or ""):
        if "\x00" in value:
            raise ValueError("notification text must not contain NUL characters")
    return title


def notify(
    user,
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    dedupe_key: str | None = None,
    params: dict | None = None,
) -> Notification | None:
    """Store a notification for ``user`` and push it to their open sockets after commit.

    Idempotent on ``dedupe_key`` (per recipient): if that key was already used for this user,
    nothing is stored or pushed and ``None`` is returned. ``url`` is stored as given but shown
    as a link only when it is a path on this site. Bad input raises ValueError, nothing stored.
    """
    sources = {"title_source": "", "body_source": "", "params": {}}
    if params is not None:
        title, body, sources = _render_sources(title, body or "", params)
    title = check_notification(kind=kind, title=title, body=body, url=url, dedupe_key=dedupe_key)
    if dedupe_key is not None and (
        Notification.objects.filter(recipient=user, dedupe_key=dedupe_key).exists()
    ):
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=user,
                kind=kind,
                title=title,
                body=body or "",
                url=url or "",
                dedupe_key=dedupe_key,
                **sources,
            )
    except IntegrityError:
        # A concurrent call with the same key won the race; the constraint keeps one row.
        if dedupe_key is not None:
            return None
        raise
    forget_unread_count(user.pk)
    send_to_user(user.pk, push_payload(notification))
    return notification


@dataclass(frozen=True)
class Recipient:
    """One notification of ``notify_each``: who, the link, the dedupe key."""

    user: object
    url: str = ""
    dedupe_key: str | None = None


def notify_each(
    recipients: Sequence[Recipient],
    *,
    kind: str,
    title: str,
    body: str = "",
    params: dict | None = None,
) -> list[Notification]:
    """``notify`` for many users at once, the same text for each (a group roll-call's ring):
    the same rows and pushes as a ``notify`` per recipient, in four queries whatever their
    number (the keys already used; the insert in its savepoint). A recipient whose key was used
    is skipped. Bad input raises ValueError, nothing stored. Should the insert meet a key
    stored meanwhile by a concurrent call, it falls back to ``notify`` one by one."""
    given = {"title": title, "body": body, "params": params}
    sources = {"title_source": "", "body_source": "", "params": {}}
    if params is not None:
        title, body, sources = _render_sources(title, body or "", params)
    for recipient in recipients:
        title = check_notification(
            kind=kind, title=title, body=body, url=recipient.url, dedupe_key=recipient.dedupe_key
        )
    keys = [r.dedupe_key for r in recipients if r.dedupe_key is not None]
    used = set(
        Notification.objects.filter(
            dedupe_key__in=keys, recipient__in=[r.user for r in recipients if r.dedupe_key]
        ).values_list("recipient_id", "dedupe_key")
        if keys
        else ()
    )
    fresh = [r for r in recipients if (r.user.pk, r.dedupe_key) not in used]
    rows = [
        Notification(
            recipient=r.user,
            kind=kind,
            title=title,
            body=body or "",
            url=r.url or "",
            dedupe_key=r.dedupe_key,
            **sources,
        )
        for r in fresh
    ]
    try:
        with transaction.atomic():
            created = Notification.objects.bulk_create(rows)
    except IntegrityError:
        return [
            notification
            for r in fresh
            if (
                notification := notify(
                    r.user, kind=kind, url=r.url, dedupe_key=r.dedupe_key, **given
                )
            )
            is not None
        ]
    for notification in created:
        forget_unread_count(notification.recipient_id)
    send_to_users([(n.recipient_id, push_payload(n)) for n in created])
    return created


def _render_sources(title: str, body: str, params: dict) -> tuple[str, str, dict]:
    """The site-language rendering of source texts, and the fields that keep the sources.
    Bad placeholders or values that JSON cannot hold raise ValueError, nothing stored."""
    if not isinstance(params, dict) or not all(
        isinstance(value, str | int | float) and not isinstance(value, bool)
        for value in params.values()
    ):
        raise ValueError("params must be a dict of strings and numbers")
    with translation.override(settings.LANGUAGE_CODE):
        try:
            rendered_title = gettext(title) % params if params else gettext(title)
            rendered_body = (gettext(body) % params if params else gettext(body)) if body else ""
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"the texts do not match their params: {exc}") from None
    return (
        rendered_title,
        rendered_body,
        {"title_source": title, "body_source": body, "params": dict(params)},
    )


def push_payload(notification: Notification) -> dict:
    """What the user's socket hears: the notification itself (it is theirs) and a link."""
    return {
        "type": "notification",
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.display_title,
        "body": notification.display_body,
        "url": notification.safe_url,
        "created_at": notification.created_at.isoformat(),
    }


def access_notification_for_user(user, pk) -> Notification:
    """The user's own notification ``pk``; 404 for anyone else's or a missing one."""
    try:
        return Notification.objects.for_user(user).get(pk=pk)
    except (Notification.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such notification") from None


def do_mark_read(user, pk) -> Notification:
    """Mark the user's own notification read (idempotent: the first reading time stays).
    Someone else's, or a missing one: 404."""
    notification = access_notification_for_user(user, pk)
    if notification.read_at is None:
        now = timezone.now()
        updated = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=now
        )
        if updated:
            notification.read_at = now
            forget_unread_count(user.pk)
        else:
            notification.refresh_from_db(fields=["read_at"])
    return notification


def do_mark_all_read(user) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    changed = Notification.objects.for_user(user).unread().update(read_at=timezone.now())
    forget_unread_count(user.pk)
    return changed


def do_mark_read_by_key(dedupe_key: str, *, except_user_id: int | None = None) -> int:
    """Mark read every unread notification stored under ``dedupe_key`` (whoever received it,
    but ``except_user_id``): the task it announced is done, so it must not wait as unread.
    Returns how many changed."""
    unread = Notification.objects.filter(dedupe_key=dedupe_key, read_at__isnull=True)
    if except_user_id is not None:
        unread = unread.exclude(recipient_id=except_user_id)
    recipients = set(unread.values_list("recipient_id", flat=True))
    changed = unread.update(read_at=timezone.now())
    for user_id in recipients:
        forget_unread_count(user_id)
    return changed


def _unread_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def forget_unread_count(user_id: int) -> None:
    """Drop the cached badge count, now and again once the transaction commits."""
    key = _unread_key(user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def unread_count(user) -> int:
    """The user's unread count for the header badge (cached, see UNREAD_CACHE_SECONDS)."""
    key = _unread_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = Notification.objects.for_user(user).unread().count()
        cache.set(key, count, UNREAD_CACHE_SECONDS)
    return count
