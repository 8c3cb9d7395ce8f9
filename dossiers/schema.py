"""The catalogue format (``Catalogue.definition``), validated with pydantic: the sections a
file must hold (each with a completeness rule from ``dossiers.rules.RULES`` and its
parameters) and the sequence of review rounds (who reviews, in which scope).

Round scopes map the bureau's four checks onto the project's roles (``people.roles``):

- ``case_officer``: the person's own case officer (the officer's self-check);
- ``office``: an officer working in the person's justice office (the office head);
- ``bureau``: an administrator working at an office above or at the person's office (the
  corrections centre and the bureau are both bureau-level staff, administrators here).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from django.utils.translation import get_language
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dossiers.rules import RULES

KEY = r"^[a-z][a-z0-9_]{0,39}$"


class _Titled(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY)
    title_en: str = Field(min_length=1, max_length=200)
    title_zh: str = Field(min_length=1, max_length=200)

    def title(self, language: str | None = None) -> str:
        language = language or get_language() or "zh-hans"
        return self.title_zh if language.startswith("zh") else self.title_en


class SectionDef(_Titled):
    rule: str
    params: dict = Field(default_factory=dict)

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, value: str) -> str:
        if value not in RULES:
            raise ValueError(f"unknown rule {value!r}; one of {', '.join(sorted(RULES))}")
        return value

    @model_validator(mode="after")
    def _params_fit_rule(self) -> SectionDef:
        RULES[self.rule].params.model_validate(self.params)
        return self


class RoundDef(_Titled):
    role: Literal["officer", "administrator"]
    scope: Literal["case_officer", "office", "bureau"]


class CatalogueDef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sections: list[SectionDef] = Field(min_length=1)
    rounds: list[RoundDef] = Field(min_length=1, max_length=9)

    @model_validator(mode="after")
    def _unique_keys(self) -> CatalogueDef:
        for name, items in (("section", self.sections), ("round", self.rounds)):
            keys = [item.key for item in items]
            if len(keys) != len(set(keys)):
                raise ValueError(f"{name} keys must be unique")
        return self

    def section(self, key: str) -> SectionDef | None:
        return next((s for s in self.sections if s.key == key), None)

    def round(self, key: str) -> RoundDef | None:
        return next((r for r in self.rounds if r.key == key), None)


# The shipped defaults (loaded as version 1 by migration 0002, read there as data).
DEFAULT_FILE = Path(__file__).resolve().parent / "catalogue" / "default_v1.json"


def default_catalogue() -> dict:
    return json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
