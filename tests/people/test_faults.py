"""A multi-row write killed midway leaves nothing behind."""

from __future__ import annotations

import io
from unittest import mock

import pytest

from audit.models import AccessEvent, AccessLogHead, Action
from audit.services import record_access, verify_chain
from people.models import Caseload, Office, Person, User
from people.services import check_roster, do_import_roster, read_roster

pytestmark = pytest.mark.django_db

ROWS = (
    "case_number,name,office,parent_office,category,supervision_start,supervision_end,counselors\n"
    "F-1,甲,新司法所,测试区司法局,普管,2026-01-01,2026-12-31,counselor\n"
    "F-2,乙,东司法所,,普管,2026-01-01,2026-12-31,counselor\n"
    "F-3,丙,东司法所,,普管,2026-01-01,2026-12-31,counselor\n"
)


def test_roster_import_killed_midway_leaves_no_partial_rows(org):
    report = check_roster(read_roster(io.BytesIO(ROWS.encode()), filename="r.csv"))
    assert report.ok
    before = (
        Person.objects.count(),
        User.objects.count(),
        Office.objects.count(),
        Caseload.objects.count(),
    )
    real = Caseload.objects.get_or_create
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("process killed")
        return real(*args, **kwargs)

    with mock.patch.object(Caseload.objects, "get_or_create", side_effect=dying):
        with pytest.raises(RuntimeError):
            do_import_roster(report)
    after = (
        Person.objects.count(),
        User.objects.count(),
        Office.objects.count(),
        Caseload.objects.count(),
    )
    assert after == before
    do_import_roster(report)  # and the same roster then imports cleanly
    assert Person.objects.filter(case_number__startswith="F-").count() == 3


def test_access_log_write_killed_midway_keeps_the_chain_intact(org):
    record_access(action=Action.VIEW, user=org.counselor)
    with mock.patch.object(AccessLogHead, "save", side_effect=RuntimeError("killed")):
        with pytest.raises(RuntimeError):
            record_access(action=Action.VIEW, user=org.counselor)
    assert AccessEvent.objects.count() == 1
    assert verify_chain().ok
    record_access(action=Action.VIEW, user=org.counselor)
    assert verify_chain().ok
