"""One page per person (一人一档): the sections and the timeline on the staff person page.

``people`` sits below every app that holds something about a person, so it cannot ask them;
each app registers what it shows in its ``AppConfig.ready()`` (``register_section``,
``register_summary_fact``, ``register_timeline_source``) and the page asks every one.

Contract for a provider, so the page stays fast and never shows what the viewer may not see:

- it receives a person already fetched through ``Person.objects.visible_to(user)`` and the
  viewer, and applies its own app's scoping rule for anything narrower (questionnaire
  results, plans);
- it runs a fixed number of queries whatever the length of the person's history (lists are
  capped with a slice, counts are aggregated);
- it returns ``None`` when it has nothing the viewer may see; the page then leaves it out.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from people.models import Person, User

# --- Sections ---------------------------------------------------------------------------------

SectionBuilder = Callable[[Person, User], dict[str, Any] | None]


@dataclass(frozen=True)
class Section:
    key: str
    order: int
    title: Any  # a lazy translation
    build: SectionBuilder
    template: str


SECTIONS: dict[str, Section] = {}


def register_section(
    key: str, order: int, title: Any, build: SectionBuilder, template: str
) -> None:
    """Show ``template`` with ``build(person, viewer)``'s context (as ``section``) on the page,
    sections sorted by ``order``. Registering a key again replaces it."""
    SECTIONS[key] = Section(key=key, order=order, title=title, build=build, template=template)


@dataclass(frozen=True)
class RenderedSection:
    key: str
    title: Any
    template: str
    context: dict[str, Any]


def sections_for(person: Person, user: User) -> list[RenderedSection]:
    rendered = []
    for section in sorted(SECTIONS.values(), key=lambda s: (s.order, s.key)):
        context = section.build(person, user)
        if context is not None:
            rendered.append(RenderedSection(section.key, section.title, section.template, context))
    return rendered


# --- Summary facts (the top of the page: "how is this person doing") --------------------------


class Tone:
    """How a fact reads at a glance (a CSS class on the page)."""

    GOOD = "good"
    WARN = "warn"
    BAD = "bad"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    tone: str = Tone.NEUTRAL
    url: str = ""


FactBuilder = Callable[[Person, User], Sequence[Fact]]
SUMMARY_FACTS: dict[str, tuple[int, FactBuilder]] = {}


def register_summary_fact(key: str, order: int, build: FactBuilder) -> None:
    SUMMARY_FACTS[key] = (order, build)


def summary_facts(person: Person, user: User) -> list[Fact]:
    facts: list[Fact] = []
    for _order, build in sorted(SUMMARY_FACTS.values(), key=lambda item: item[0]):
        facts.extend(build(person, user))
    return facts


# --- Timeline ---------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class TimelineEntry:
    at: dt.datetime
    kind: str = field(compare=False)
    title: str = field(compare=False)
    detail: str = field(default="", compare=False)
    url: str = field(default="", compare=False)
    tone: str = field(default=Tone.NEUTRAL, compare=False)


# fetch(person, viewer, limit) → at most ``limit`` entries, newest first.
TimelineFetch = Callable[[Person, User, int], Iterable[TimelineEntry]]


@dataclass(frozen=True)
class TimelineSource:
    kind: str
    order: int
    label: Any
    fetch: TimelineFetch


TIMELINE_SOURCES: dict[str, TimelineSource] = {}


def register_timeline_source(kind: str, order: int, label: Any, fetch: TimelineFetch) -> None:
    """``kind`` is also the value of the page's ``kind`` filter (GET), so keep it short."""
    TIMELINE_SOURCES[kind] = TimelineSource(kind=kind, order=order, label=label, fetch=fetch)


def timeline_kinds() -> list[TimelineSource]:
    return sorted(TIMELINE_SOURCES.values(), key=lambda s: (s.order, s.kind))


def timeline(
    person: Person, user: User, kinds: Iterable[str] = (), limit: int = 50
) -> tuple[list[TimelineEntry], bool]:
    """The newest ``limit`` entries of the chosen kinds (all when none), merged newest first,
    and whether there are more. Each source is asked for ``limit + 1`` entries, so the cost is
    one bounded fetch per source whatever the history's length."""
    chosen = set(kinds)
    streams = [
        sorted(source.fetch(person, user, limit + 1), reverse=True)
        for source in timeline_kinds()
        if not chosen or source.kind in chosen
    ]
    merged = list(itertools.islice(heapq.merge(*streams, reverse=True), limit + 1))
    return merged[:limit], len(merged) > limit
