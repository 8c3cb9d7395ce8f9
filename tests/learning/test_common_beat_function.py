"""``learning/heartbeat/common_beat.sql`` is the function PostgreSQL runs.

Learning migration 0007 installs ``learning_common_beat`` from that file. A database keeps
the function it was migrated with, so the file and the installed function can drift apart:
these tests say so when they do."""

from __future__ import annotations

import hashlib
import importlib
import re

import pytest
from django.db import connection, transaction

from learning.models import LessonProgress, StudySession
from participation.models import ParticipationRecord
from people.models import Person

FUNCTION_FILE = importlib.import_module(
    "learning.migrations.0007_common_beat_function"
).FUNCTION_FILE

# The function's text (from ``CREATE``, so the file's header comments may change freely) as
# the newest migration that runs the file installed it: 0007.
INSTALLED_SHA256 = "3e42c006f5b18f10b543878ff286badce519b19eea9fea3353b44ab46ade65a9"


def _function_text() -> str:
    text = FUNCTION_FILE.read_text(encoding="utf-8")
    return text[text.index("CREATE OR REPLACE FUNCTION") :]


def test_a_changed_function_comes_with_a_migration():
    digest = hashlib.sha256(_function_text().encode()).hexdigest()
    assert digest == INSTALLED_SHA256, (
        f"{FUNCTION_FILE.name} changed, but databases already migrated keep the old "
        "learning_common_beat: add a learning migration that runs the file again "
        f"(RunPython, as 0007 does), then set INSTALLED_SHA256 = {digest!r} here."
    )


def test_the_function_names_the_models_tables():
    # Its parameters and variables are p_*, o_* and v_* (``extract(epoch FROM v_last)``).
    named = {
        name
        for name in re.findall(r"\b(?:FROM|JOIN|UPDATE)\s+(\w+)", _function_text())
        if not name.startswith(("p_", "o_", "v_"))
    }
    models = (Person, StudySession, LessonProgress, ParticipationRecord)
    assert named == {model._meta.db_table for model in models}


def _installed_definitions() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_functiondef(p.oid) FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE p.proname = 'learning_common_beat' AND n.nspname = current_schema()"
            " ORDER BY p.oid"
        )
        return [definition for (definition,) in cursor.fetchall()]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="learning_common_beat exists on PostgreSQL only"
)
@pytest.mark.django_db
def test_the_installed_function_is_the_sql_file():
    """PostgreSQL's own rendering (``pg_get_functiondef``) of the function as migrated, and of
    the file's function installed over it (then rolled back): one function, the same."""
    installed = _installed_definitions()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(FUNCTION_FILE.read_text(encoding="utf-8"))
        from_file = _installed_definitions()
        transaction.set_rollback(True)
    assert len(installed) == 1, f"expected one learning_common_beat, found {len(installed)}"
    assert from_file == installed, (
        f"the installed learning_common_beat is not {FUNCTION_FILE.name}: "
        "migrate (and see test_a_changed_function_comes_with_a_migration)"
    )
