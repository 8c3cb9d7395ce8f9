"""Batch re-scoring of stored responses gives what do_submit stored (services.rescore_stored)."""

from __future__ import annotations

import numpy as np
import pytest

from assessments.models import InstrumentVersion, Response, Result
from assessments.services import rescore_stored, stored_answers_frame
from tests.assessments.helpers import answer_all, assign, submitted
from tests.factories import make_person

pytestmark = pytest.mark.django_db


def test_rescoring_stored_sds_responses_reproduces_the_stored_results(org):
    rng = np.random.default_rng(7)
    for _ in range(12):
        person = make_person(org.east, counselors=(org.counselor,))
        submitted(person, rng.integers(0, 4, size=20).tolist(), slug="sds")
    open_one = assign(org.person, org.counselor, "sds")
    answer_all(open_one, [1] * 5)  # not submitted: left out
    version = InstrumentVersion.objects.get(instrument__slug="sds")

    frame = rescore_stored(version)

    results = {r.response_id: r for r in Result.objects.filter(instrument_version=version)}
    assert sorted(frame.index) == sorted(results)
    for response_id, row in frame.iterrows():
        stored = results[response_id].scales["total"]
        assert (row["total.raw"], row["total.score"], row["total.band"]) == (
            stored["raw"],
            stored["score"],
            stored["band"],
        )
        assert list(row["critical_items"]) == results[response_id].critical_items


def test_no_stored_responses_give_an_empty_frame_with_one_column_per_item(org):
    submitted(org.person, [0] * 9)  # a PHQ-9: no SDS at all
    submitted(org.other_person, [0] * 20, slug="sds")
    version = InstrumentVersion.objects.get(instrument__slug="sds")
    frame = stored_answers_frame(version, Response.objects.filter(pk__in=[]))
    assert frame.shape == (0, 20)


def test_short_or_partial_stored_answers_are_padded_with_nan(org):
    submitted(org.person, [0] * 9)
    version = InstrumentVersion.objects.get(instrument__slug="phq9")
    response = Response.objects.get()
    # Older rows may hold fewer entries or None for unanswered items.
    Response.objects.filter(pk=response.pk).update(answers=[1, None, 2])
    frame = stored_answers_frame(version)
    assert frame.shape == (1, 9)
    assert frame.iloc[0, 0] == 1 and np.isnan(frame.iloc[0, 1]) and frame.iloc[0, 2] == 2
    assert frame.iloc[0, 3:].isna().all()


def test_full_rows_with_unanswered_items_read_as_nan(org):
    submitted(org.person, [0] * 9)
    version = InstrumentVersion.objects.get(instrument__slug="phq9")
    Response.objects.update(answers=[2, None, 1, 0, 0, 0, 0, 0, 3])
    frame = stored_answers_frame(version)
    assert frame.shape == (1, 9)
    assert np.isnan(frame.iloc[0, 1])
    assert frame.iloc[0].drop(1).tolist() == [2, 1, 0, 0, 0, 0, 0, 3]
