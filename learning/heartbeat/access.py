"""Who may beat: the learner's enrollment in the lesson's published course, read in one
query (with the session row, on the fast path), and what a worker keeps of a checked session.

Raw SQL (``statements.ACCESS_SQL``) rather than ``learning.services.access_lesson_for_learner``
because the beat is the busiest request; the rule is the same: a live lesson of a published
course the signed-in person is enrolled in, or 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection
from django.http import Http404
from django.utils import timezone

from courses.models import LessonPage
from learning.heartbeat.statements import (
    ACCESS_SQL,
    SESSION_AND_ACCESS_SQL,
    access_params,
    prepared_cursor,
)
from people.models import Person, User


class AccessRow(NamedTuple):
    """``ACCESS_SQL``'s row: a user's person enrolled in a live lesson's published course.
    The user is not checked yet (active, session hash): that is the caller's."""

    user_id: int
    lesson_id: int
    expected_seconds: int
    person_id: int
    password: str
    is_active: bool
    second_step: bool  # the user needs the second sign-in step: the fast path never answers


class SessionRead(NamedTuple):
    """A live session row's stored text, and the access row read with it (None without one)."""

    text: str
    access: AccessRow | None


@dataclass(frozen=True, slots=True)
class CheckedSession:
    """What a worker verified of a session for a lesson (``learning.heartbeat.middleware``):
    the session row's stored text and its decoded data, and the access row it was checked
    against."""

    text: str
    data: dict
    user_id: int
    lesson_id: int
    person_id: int
    expected_seconds: int
    password: str


def access_lesson_for_heartbeat(user, lesson_id: int) -> tuple[Person, LessonPage]:
    """``learning.services.access_lesson_for_learner`` in one query, for the heartbeat.

    Returns partly loaded instances (the other fields load on access): the lesson with its key
    and ``expected_seconds``, the person with its key and user, all ``store.do_record_heartbeat``
    reads. Raises Http404 as ``access_lesson_for_learner`` does."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Http404
    found = access_lesson_for_user_id(user.pk, lesson_id)
    if found is None:
        raise Http404
    return found[0], found[1]


def access_row_for_user_id(user_id: int, lesson_id: int) -> AccessRow | None:
    """The access row when user ``user_id``'s person is enrolled in the published course of
    live lesson ``lesson_id``, in one query; None otherwise."""
    with prepared_cursor() as cursor:
        cursor.execute(ACCESS_SQL, access_params(LessonPage.steplen, lesson_id, user_id))
        row = cursor.fetchone()
    return None if row is None else AccessRow(*row)


def session_and_access_row(
    session_key: str, user_id: int | None, lesson_id: int
) -> SessionRead | None:
    """A live session row's stored text and, in the same query, ``access_row_for_user_id``
    for ``user_id`` (None without a user or an enrollment); None when the session has expired
    or does not exist. The caller checks that the session is that user's."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with prepared_cursor() as cursor:
        cursor.execute(
            SESSION_AND_ACCESS_SQL,
            [*access_params(LessonPage.steplen, lesson_id, user_id), session_key, now],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return SessionRead(row[0], None if row[1] is None else AccessRow(*row[1:]))


def partial_person_and_lesson(
    person_id: int, user_id: int, lesson_id: int, expected_seconds: int
) -> tuple[Person, LessonPage]:
    """The person and the lesson with only the fields a heartbeat reads (the rest load on
    access), as ``access_row_for_user_id`` found them."""
    alias = connection.alias
    lesson = LessonPage.from_db(
        alias, ["id", "page_ptr_id", "expected_seconds"], [lesson_id, lesson_id, expected_seconds]
    )
    person = Person.from_db(alias, ["id", "user_id"], [person_id, user_id])
    return person, lesson


def access_lesson_for_user_id(
    user_id: int, lesson_id: int
) -> tuple[Person, LessonPage, User] | None:
    """The person of user ``user_id``, a live lesson of a published course they are enrolled
    in and the user, all partly loaded, in one query; None when there is no such enrollment.

    The user carries only its key, ``password`` and ``is_active``: not yet checked here."""
    found = access_row_for_user_id(user_id, lesson_id)
    if found is None:
        return None
    person, lesson = partial_person_and_lesson(
        found.person_id, user_id, found.lesson_id, found.expected_seconds
    )
    user = User.from_db(
        connection.alias,
        ["id", "password", "is_active"],
        [user_id, found.password, bool(found.is_active)],
    )
    return person, lesson, user
