"""Normative SD and test–retest reliability per (instrument, scale), for the reliable change
index. The instrument schema forbids extra fields, so the figures live here, each with its
source. A scale missing from the table shows "not available" rather than a guessed number.

RCI (Jacobson & Truax 1991): (x2 − x1) / (SD · √2 · √(1 − r)); |RCI| ≥ 1.96 is a change
larger than measurement error would explain (p < .05).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

RELIABLE = 1.96


@dataclass(frozen=True)
class Norm:
    sd: float
    retest_r: float
    source: str


NORMS: dict[tuple[str, str], Norm] = {
    ("phq9", "total"): Norm(
        sd=3.52,
        retest_r=0.84,
        source=(
            "SD: Kocalevent RD, Hinz A, Brähler E. Standardization of the depression screener "
            "PHQ-9 in the general population. Gen Hosp Psychiatry 2013;35:551-5. "
            "r: Kroenke K et al. J Gen Intern Med 2001;16:606-13 (48-hour retest)."
        ),
    ),
    ("gad7", "total"): Norm(
        sd=3.41,
        retest_r=0.83,
        source=(
            "SD: Löwe B et al. Validation and standardization of the GAD-7 in the general "
            "population. Med Care 2008;46:266-74. "
            "r: Spitzer RL et al. Arch Intern Med 2006;166:1092-7 (test-retest ICC)."
        ),
    ),
}


@dataclass(frozen=True)
class ReliableChange:
    rci: float
    reliable: bool
    direction: str  # "up", "down" or "none"
    norm: Norm


def reliable_change(slug: str, scale: str, before: float, after: float) -> ReliableChange | None:
    """The RCI from ``before`` to ``after``, or ``None`` when no norm is recorded."""
    norm = NORMS.get((slug, scale))
    if norm is None or before is None or after is None:
        return None
    denominator = norm.sd * math.sqrt(2) * math.sqrt(1 - norm.retest_r)
    rci = (after - before) / denominator
    reliable = abs(rci) >= RELIABLE
    direction = "none" if not reliable else ("up" if rci > 0 else "down")
    return ReliableChange(rci=round(rci, 2), reliable=reliable, direction=direction, norm=norm)
