"""Batch scoring: ``score_frame()`` over 100,000 SDS responses against calling ``score()``
once per response (what a loop over stored responses would do).

In memory only: building 100,000 database rows would measure the database, not the engine.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.common import best_of

RESPONSES = 100_000


def run() -> list[dict]:
    from assessments.scoring import score, score_frame
    from assessments.services import get_instrument_definition

    sds = get_instrument_definition("sds")
    rng = np.random.default_rng(2026)
    answers = rng.integers(0, 4, size=(RESPONSES, len(sds.items)))
    frame = pd.DataFrame(answers)
    rows = answers.tolist()

    batch = score_frame(sds, frame)
    one_by_one = [score(sds, row) for row in rows[:1000]]
    assert [r.scales["total"].score for r in one_by_one] == batch["total.score"][:1000].tolist()

    return [
        {
            "name": f"SDS batch scoring ({RESPONSES:,} responses)",
            "ours": best_of(lambda: score_frame(sds, frame)),
            "naive": best_of(lambda: [score(sds, row) for row in rows], repeat=1),
            "note": "score_frame vs score() per response; in memory, no DB rows",
        }
    ]
