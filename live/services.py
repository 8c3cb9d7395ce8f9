"""Writing Jitsi presence events.

``do_store_presence_event`` is the one way a webhook event enters the database; views and
the ``replay_events`` command call it after ``live.webhooks`` has verified and parsed the
request.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from live.models import PresenceEvent
from live.webhooks import ParsedEvent


@dataclass(frozen=True)
class StoreResult:
    event: PresenceEvent | None
    created: bool

    @property
    def status(self) -> str:
        return "stored" if self.created else "duplicate"


def do_store_presence_event(parsed: ParsedEvent) -> StoreResult:
    """Append ``parsed`` unless an event with the same dedupe key exists (a replay or a
    provider retry): then nothing is written and ``created`` is False. A new event is
    handed to ``on_presence_event`` after the transaction commits.

    Room names and user ids are stored as given: they are checked against lectures and
    users once the Lecture model exists.
    """
    try:
        with transaction.atomic():
            event = PresenceEvent.objects.create(
                provider=parsed["provider"],
                event_type=parsed["event_type"],
                room_name=parsed["room_name"],
                user_id=parsed["user_id"],
                occurred_at=parsed["occurred_at"],
                payload=parsed["payload"],
                dedupe_key=parsed["dedupe_key"],
            )
            transaction.on_commit(lambda: on_presence_event(event))
    except IntegrityError:
        if not PresenceEvent.objects.filter(dedupe_key=parsed["dedupe_key"]).exists():
            raise
        return StoreResult(event=None, created=False)
    return StoreResult(event=event, created=True)


def on_presence_event(event: PresenceEvent) -> None:
    """Extension point, called once per newly stored event after commit.

    Attendance recompute (interval merge per person, clipped to the lecture, then the
    attendance policy) will hook in here when the Lecture and Attendance models arrive.
    For now it deliberately does nothing else: the raw event stored in ``PresenceEvent``
    is the whole record.
    """
