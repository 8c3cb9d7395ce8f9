"""Batch scoring of SDS responses.

1. Stored: 100,000 submitted SDS responses in the database, re-scored by
   ``services.rescore_stored`` (one query, the JSON parsed at once, ``score_frame``) against
   scoring them one by one through the ORM path a submission takes (``do_submit``: the
   response with its assignment and instrument version, ``as_definition()``, ``score()``).
   Both give the same score for every response, checked.
2. The same against a lean ORM loop (answers only, the definition validated once): what is
   left is the engine and the reading of rows.
3. In memory: the engine alone, ``score_frame()`` against ``score()`` per response.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.common import best_of

RESPONSES = 100_000
PERSONS = 500


def _store_responses(answers: np.ndarray):
    """100,000 submitted SDS assignments and responses (bulk insert), spread over persons."""
    import datetime as dt

    from django.utils import timezone

    from assessments.models import Assignment, AssignmentStatus, InstrumentVersion, Response
    from assessments.services import INSTRUMENTS_DIR, do_load_instrument, read_instrument_file
    from people.models import Office, OfficeKind, Person, User

    do_load_instrument(read_instrument_file(INSTRUMENTS_DIR / "sds.json"))
    version = InstrumentVersion.objects.filter(instrument__slug="sds").order_by("-version").first()
    if _bench_responses().count() == len(answers):
        return version
    office = Office.add_root(name="bench bureau", code="bench-scoring", kind=OfficeKind.BUREAU)
    users = User.objects.bulk_create(
        [User(username=f"bench-sds-{i}", password="!") for i in range(PERSONS)]  # noqa: S106
    )
    start = dt.date(2026, 1, 1)
    persons = Person.objects.bulk_create(
        [
            Person(
                user=user,
                case_number=f"BENCH-SDS-{i:05d}",
                full_name=user.username,
                office=office,
                category="normal",
                supervision_start=start,
                supervision_end=start + dt.timedelta(days=365),
            )
            for i, user in enumerate(users)
        ]
    )
    now = timezone.now()
    assignments = Assignment.objects.bulk_create(
        [
            Assignment(
                person=persons[i % PERSONS],
                instrument_version=version,
                reason="periodic",
                status=AssignmentStatus.SUBMITTED,
            )
            for i in range(len(answers))
        ],
        batch_size=5000,
    )
    Response.objects.bulk_create(
        [
            Response(assignment=a, answers=row, submitted_at=now)
            for a, row in zip(assignments, answers.tolist(), strict=True)
        ],
        batch_size=5000,
    )
    return version


def _bench_responses():
    from assessments.models import Response

    return Response.objects.filter(assignment__person__case_number__startswith="BENCH-SDS-")


def run() -> list[dict]:
    from assessments.scoring import score, score_frame
    from assessments.services import get_instrument_definition, rescore_stored

    rng = np.random.default_rng(2026)
    sds = get_instrument_definition("sds")
    answers = rng.integers(0, 4, size=(RESPONSES, len(sds.items)))
    version = _store_responses(answers)

    responses = _bench_responses()
    one_by_one: list = []
    submission_path: list = []

    def orm_path_as_submitted():
        submission_path[:] = [
            (
                response.pk,
                score(response.assignment.instrument_version.as_definition(), response.answers)
                .scales["total"]
                .score,
            )
            for response in responses.filter(
                assignment__instrument_version=version, submitted_at__isnull=False
            )
            .select_related("assignment__instrument_version__instrument", "assignment__person")
            .order_by("pk")
            .iterator(chunk_size=2000)
        ]

    def orm_path():
        definition = version.as_definition()
        one_by_one[:] = [
            (response.pk, score(definition, response.answers).scales["total"].score)
            for response in responses.filter(
                assignment__instrument_version=version, submitted_at__isnull=False
            )
            .only("pk", "answers")
            .order_by("pk")
            .iterator(chunk_size=2000)
        ]

    stored_ours = best_of(lambda: rescore_stored(version, responses))
    submission_naive = best_of(orm_path_as_submitted, repeat=1)
    lean_naive = best_of(orm_path, repeat=1)
    batch = rescore_stored(version, responses)
    expected = list(zip(batch.index.tolist(), batch["total.score"].tolist(), strict=True))
    assert len(batch) == RESPONSES
    assert submission_path == expected and one_by_one == expected

    frame = pd.DataFrame(answers)
    rows = answers.tolist()
    in_memory = score_frame(sds, frame)
    assert [score(sds, row).scales["total"].score for row in rows[:1000]] == (
        in_memory["total.score"][:1000].tolist()
    )
    return [
        {
            "name": f"SDS re-scoring, {RESPONSES:,} stored responses",
            "ours": stored_ours,
            "naive": submission_naive,
            "note": "rescore_stored vs one by one through the submission's ORM path",
        },
        {
            "name": f"SDS re-scoring, {RESPONSES:,} stored, lean loop",
            "ours": stored_ours,
            "naive": lean_naive,
            "note": "rescore_stored vs ORM rows (answers only) → score(); same totals",
        },
        {
            "name": f"SDS batch scoring ({RESPONSES:,} responses)",
            "ours": best_of(lambda: score_frame(sds, frame)),
            "naive": best_of(lambda: [score(sds, row) for row in rows], repeat=1),
            "note": "score_frame vs score() per response; in memory, no DB rows",
        },
    ]
