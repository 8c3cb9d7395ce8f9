"""WSGI application for ``bench_heartbeat``: the project's own site (``config.urls``) plus the
naive heartbeat endpoint the benchmark compares it with. Served by gunicorn, never by tests.

The naive endpoint is the straightforward design the real one avoids: one row per beat in a
table of its own (``bench_heartbeat_beat``), and after each beat the person's credit computed
again from all their beats with ``participation.crediting.credit``. Enrollment is checked with
``access_lesson_for_learner`` (two queries); the rate limit and bad-input answers are the same.
"""

from __future__ import annotations

import datetime as dt
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.views.decorators.http import require_POST  # noqa: E402

from courses.models import LessonPage  # noqa: E402
from learning import services  # noqa: E402
from learning.heartbeat.rule import MIN_BEAT_INTERVAL  # noqa: E402
from learning.heartbeat.views import TAB_ID, _beat_body  # noqa: E402
from learning.models import LessonProgress  # noqa: E402
from lib.parse import parse_id  # noqa: E402
from participation.crediting import credit  # noqa: E402

BEAT_TABLE = "bench_heartbeat_beat"


def create_beat_table() -> None:
    """The naive design's table: one row per beat (idempotent)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {BEAT_TABLE} ("  # noqa: S608
            " person_id bigint NOT NULL, lesson_id bigint NOT NULL,"
            " tab varchar(64) NOT NULL, at timestamp NOT NULL)"
        )
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {BEAT_TABLE}_person ON {BEAT_TABLE} (person_id, at)"
        )


def _naive_at(value) -> dt.datetime:
    """Beat times are stored as naive UTC (one column type for SQLite and PostgreSQL)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC)


@require_POST
def naive_heartbeat(request):
    if not request.user.is_authenticated:
        return JsonResponse({"error": "not_signed_in"}, status=403)
    body = _beat_body(request)
    lesson_id, tab = parse_id(body.get("lesson")), body.get("tab")
    if lesson_id is None or not isinstance(tab, str) or not TAB_ID.fullmatch(tab):
        return JsonResponse({"error": "malformed"}, status=400)
    person, lesson = services.access_lesson_for_learner(request.user, lesson_id)
    now = timezone.now()
    stamp = now.astimezone(dt.UTC).replace(tzinfo=None)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT max(at) FROM {BEAT_TABLE} WHERE person_id = %s AND lesson_id = %s"  # noqa: S608
            " AND tab = %s",
            [person.pk, lesson.pk, tab],
        )
        (last,) = cursor.fetchone()
        if last is not None and now - _naive_at(last) < MIN_BEAT_INTERVAL:
            return JsonResponse({"error": "too_fast"}, status=429)
        cursor.execute(
            f"INSERT INTO {BEAT_TABLE} (person_id, lesson_id, tab, at) VALUES (%s, %s, %s, %s)",  # noqa: S608
            [person.pk, lesson.pk, tab, stamp],
        )
        cursor.execute(
            f"SELECT lesson_id, tab, at FROM {BEAT_TABLE} WHERE person_id = %s",  # noqa: S608
            [person.pk],
        )
        beats = [{"lesson": row[0], "tab": row[1], "at": _naive_at(row[2])} for row in cursor]
        lessons = {beat["lesson"] for beat in beats}
        expected = dict(
            LessonPage.objects.filter(pk__in=lessons).values_list("pk", "expected_seconds")
        )
        credits = credit(beats, expected)
        progress, _created = LessonProgress.objects.update_or_create(
            person=person, lesson=lesson, defaults={"credited_seconds": credits[lesson.pk]}
        )
    return JsonResponse(
        {
            "credited_seconds": progress.credited_seconds,
            "expected_seconds": lesson.expected_seconds,
            "completed": progress.completed_at is not None,
        }
    )


urlpatterns = [
    path("bench/naive-heartbeat/", naive_heartbeat),
    path("", include(settings.ROOT_URLCONF)),
]
settings.ROOT_URLCONF = __name__

application = get_wsgi_application()

from lib.startup import settle  # noqa: E402

settle()  # as config/wsgi.py does
