"""A file is compiled from one consistent read: records changed by another connection while
the compile's snapshot is open are either wholly in the file or wholly not.

Run on SQLite (the writer waits for the snapshot's transaction) and on PostgreSQL
(``DATABASE_URL=postgres://…``: the writer commits in the middle of the read, which
REPEATABLE READ keeps out of it)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from dossiers import snapshot as snapshot_module
from dossiers.services import do_compile_dossier
from dossiers.snapshot import read_snapshot
from participation.models import AbsenceRequest, AbsenceStatus, MonthStatus, PersonMonth

# serialized_rollback: the shipped catalogue (a data migration) is back for the next tests.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _writer(month_pk: int, absence_pk: int, done: threading.Event, errors: list) -> None:
    """In its own connection: the first month missed and the absence approved (without
    evidence), in one transaction; retried while the database is locked (SQLite)."""
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with transaction.atomic():
                    PersonMonth.objects.filter(pk=month_pk).update(status=MonthStatus.MISSED)
                    AbsenceRequest.objects.filter(pk=absence_pk).update(
                        status=AbsenceStatus.APPROVED, decided_at=timezone.now()
                    )
                done.set()
                return
            except OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    except Exception as error:  # noqa: BLE001 - reported to the test
        errors.append(error)
    finally:
        connection.close()


def test_records_changed_while_the_snapshot_is_open_stay_out_of_the_file(released, monkeypatch):
    month = PersonMonth.objects.filter(person=released).order_by("period").first()
    absence = AbsenceRequest.objects.create(
        person=released,
        period=month.period,
        requirement_key="lecture:1",
        requirement="法治讲座",
        reason="生病",
        filed_at=timezone.now(),
    )
    done, errors = threading.Event(), []
    writer = threading.Thread(target=_writer, args=(month.pk, absence.pk, done, errors))
    during_read: list[bool] = []
    real_lectures = snapshot_module._lectures

    def lectures_after_a_write(person):
        # The months are read; the absences are not yet. Another connection writes both.
        writer.start()
        during_read.append(done.wait(timeout=2))
        return real_lectures(person)

    monkeypatch.setattr(snapshot_module, "_lectures", lectures_after_a_write)
    dossier = do_compile_dossier(released)
    writer.join(timeout=40)
    assert not errors and done.is_set()
    if connection.vendor == "postgresql":
        # The write was committed while the snapshot was being read.
        assert during_read == [True]
    verdicts = {v["section"]: v for v in dossier.verdicts}
    # The state before the write, in every section: the month met, the absence pending.
    assert verdicts["monthly_study"]["complete"] is True
    assert verdicts["absences"]["complete"] is True
    # The next read sees the write, in every section.
    monkeypatch.setattr(snapshot_module, "_lectures", real_lectures)
    after = read_snapshot(released)
    assert after.months[0].status == MonthStatus.MISSED
    assert [a.status for a in after.absences] == [AbsenceStatus.APPROVED]
