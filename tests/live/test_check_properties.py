"""Browser signals never lengthen credit (hypothesis): presence checks
(``live.attendance.shorten_by_checks``) and page sightings (``merge_presence``'s
``heartbeats``) can only take presence away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from live.attendance import PolicyRules, decide, merge_presence, shorten_by_checks
from tests.live.presence_builders import END, START, at, jaas

offsets = st.integers(-120, 3720)


def _inside(smaller, larger) -> bool:
    return all(any(a <= s and e <= b for a, b in larger) for s, e in smaller)


@st.composite
def summaries(draw):
    """A merge_presence-like summary: sorted, disjoint, whole-second intervals in the window."""
    cuts = sorted(set(draw(st.lists(st.integers(0, 3600), max_size=8))))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    intervals = [(at(cuts[i]), at(cuts[i + 1])) for i in range(0, len(cuts), 2)]
    intervals = [(s, e) for s, e in intervals if e > s]
    return {
        "seconds": sum(int((e - s).total_seconds()) for s, e in intervals),
        "intervals": intervals,
    }


@st.composite
def checks(draw):
    """A person's checks: (sent_at, answered_at or None), answers within 60 s."""
    found = []
    for sent in sorted(set(draw(st.lists(st.integers(0, 3540), max_size=6)))):
        delay = draw(st.one_of(st.none(), st.integers(0, 60)))
        found.append((at(sent), None if delay is None else at(sent + delay)))
    return found


@settings(max_examples=300, deadline=None)
@given(summaries(), checks())
def test_checks_never_lengthen_credit(summary, asked):
    shortened = shorten_by_checks(summary, asked, END)
    assert shortened["seconds"] <= summary["seconds"]
    assert _inside(shortened["intervals"], summary["intervals"])
    assert shortened["seconds"] == sum(
        int((e - s).total_seconds()) for s, e in shortened["intervals"]
    )


@settings(max_examples=300, deadline=None)
@given(summaries(), checks(), st.data())
def test_answering_more_checks_never_lowers_credit(summary, asked, data):
    missed = [i for i, (_sent, answered) in enumerate(asked) if answered is None]
    if not missed:
        assert shorten_by_checks(summary, asked, END) == summary
        return
    index = data.draw(st.sampled_from(missed))
    sent = asked[index][0]
    better = [*asked]
    better[index] = (sent, sent + timedelta(seconds=data.draw(st.integers(0, 60))))
    worse = shorten_by_checks(summary, asked, END)
    more = shorten_by_checks(summary, better, END)
    assert more["seconds"] >= worse["seconds"]
    assert _inside(worse["intervals"], more["intervals"])


@settings(max_examples=200, deadline=None)
@given(summaries(), checks())
def test_a_decision_with_checks_never_credits_more_time(summary, asked):
    rules = PolicyRules()
    plain = decide(summary, start=START, end=END, rules=rules)
    shortened = shorten_by_checks(summary, asked, END)
    answered = sum(a is not None for _s, a in asked)
    with_checks = decide(
        shortened,
        start=START,
        end=END,
        rules=rules,
        checks_asked=len(asked),
        checks_answered=answered,
    )
    assert with_checks.figures["seconds"] <= plain.figures["seconds"]
    # checks never turn a non-attendance into attendance
    if plain.status not in ("present", "late"):
        assert with_checks.status not in ("present", "late")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(offsets, offsets), min_size=1, max_size=4),
    st.lists(offsets, max_size=5),
)
def test_page_sightings_never_lengthen_server_credit(spans, seen):
    """The lecture page's socket as ``heartbeats``: only shortens what the server gives."""
    events = []
    for n, (a, b) in enumerate(spans):
        since, until = min(a, b), max(a, b)
        events.append(jaas("PARTICIPANT_JOINED", since, user="u-a", conn=f"c{n}"))
        if n % 2 == 0:  # some leaves are missing: those are what sightings may cut
            events.append(jaas("PARTICIPANT_LEFT", until, user="u-a", conn=f"c{n}"))
    plain = merge_presence(events, START, END).get("u-a")
    sighted = merge_presence(events, START, END, heartbeats={"u-a": [at(s) for s in seen]}).get(
        "u-a"
    )
    if plain is None:
        assert sighted is None
        return
    assert sighted["seconds"] <= plain["seconds"]
    assert _inside(sighted["intervals"], plain["intervals"])


def test_no_summary_stays_none():
    sent = datetime(2026, 3, 3, 2, 10, tzinfo=UTC)
    assert shorten_by_checks(None, [(sent, None)], END) is None


def test_a_late_answer_to_one_check_does_not_outlast_a_sooner_answer_to_another():
    """Found by hypothesis: checks at 0 and 1 s missed, the one at 2 s answered at once; then
    answering the 1-s check late (at 3 s) must not extend the doubt from the first check
    past the answer at 2 s."""
    t0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    summary = {"seconds": 3, "intervals": [(t0, t0 + timedelta(seconds=3))]}
    asked = [(t0, None), (t0 + timedelta(seconds=1), None), (t0 + timedelta(seconds=2),) * 2]
    better = [asked[0], (t0 + timedelta(seconds=1), t0 + timedelta(seconds=3)), asked[2]]
    assert shorten_by_checks(summary, asked, END)["seconds"] == 1
    assert shorten_by_checks(summary, better, END)["seconds"] == 1
