from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from assessments.schema import InstrumentDef
from assessments.services import INSTRUMENTS_DIR

FIXTURES = Path(__file__).parent / "fixtures"
SHIPPED_SLUGS = ["audit", "dast10", "gad7", "k10", "phq9", "rosenberg", "sas", "sds"]


def load_def(slug: str) -> InstrumentDef:
    return InstrumentDef.model_validate_json((INSTRUMENTS_DIR / f"{slug}.json").read_text())


def raw_file(slug: str) -> dict:
    return json.loads((INSTRUMENTS_DIR / f"{slug}.json").read_text())


def scl90() -> InstrumentDef:
    return InstrumentDef.model_validate_json((FIXTURES / "scl90_structure.json").read_text())


@pytest.fixture
def phq9_data() -> dict:
    return copy.deepcopy(raw_file("phq9"))
