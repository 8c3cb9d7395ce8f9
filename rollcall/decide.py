"""A target's result from the merged presence and the policy (pure).

``decide(first_join, rung_at, now, confirmation, excused, rules)`` applies, in order:

1. ``excused`` if the officer excused the call;
2. with a join seen by the video server (``first_join``, the first instant of the person's
   merged presence, ``live.attendance.merge_presence``):
   ``missed`` if the officer's confirmation is one of ``rules.failed_confirmations`` (not the
   person, no video); else ``in_time`` if the join is at most ``answer_within_minutes`` after
   the ring, ``late`` if at most ``late_within_minutes``, ``missed`` after that (a join after
   the room closed proves nothing);
3. without a join: ``missed`` once ``now`` has reached the room's close
   (``rung_at + late_within_minutes``), else undecided (``None``).

Properties (``tests/rollcall/test_decide.py``): an earlier join never gives a worse result; a
decided result never changes as ``now`` moves on; no join is never better than a join.
"""

from __future__ import annotations

import datetime as dt

from rollcall.policy import RollCallRules

IN_TIME, LATE, MISSED, EXCUSED = "in_time", "late", "missed", "excused"
RANK = {IN_TIME: 0, LATE: 1, MISSED: 2}


def deadline(rung_at: dt.datetime, rules: RollCallRules) -> dt.datetime:
    return rung_at + dt.timedelta(minutes=rules.answer_within_minutes)


def closes_at(rung_at: dt.datetime, rules: RollCallRules) -> dt.datetime:
    return rung_at + dt.timedelta(minutes=rules.late_within_minutes)


def decide(
    *,
    first_join: dt.datetime | None,
    rung_at: dt.datetime,
    now: dt.datetime,
    rules: RollCallRules,
    confirmation: str = "",
    excused: bool = False,
) -> str | None:
    if excused:
        return EXCUSED
    if first_join is not None:
        if confirmation and confirmation in rules.failed_confirmations:
            return MISSED
        if first_join <= deadline(rung_at, rules):
            return IN_TIME
        if first_join <= closes_at(rung_at, rules):
            return LATE
        return MISSED
    if now >= closes_at(rung_at, rules):
        return MISSED
    return None
