"""One page per person (一人一档): the sections and the timeline on the staff person page.

``people`` sits below every app that holds something about a person, so it cannot ask them;
each app registers what it shows in its ``AppConfig.ready()`` (``register_section``,
``register_summary_fact``, ``register_timeline_source``) and the page asks every one.

Contract for a provider, so the page stays fast and never shows what the viewer may not see:

- it receives the ``Visit``: a person already fetched through ``Person.objects.visible_to``
  and the viewer; it applies its own app's scoping rule for anything narrower (questionnaire
  results, plans) through ``visit.allows(check)``, so each rule is asked once per page view
  however many of the app's facts, sections and timeline sources need it;
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
from typing import Any, TypeVar

from people.models import Person, User

# --- The visit --------------------------------------------------------------------------------

AccessCheck = Callable[[Person, User], bool]
T = TypeVar("T")


@dataclass
class Visit:
    """One view of one person's page: who looks at whom, the answers of the apps' access
    checks (``allows``) and what more than one provider reads (``once``), each computed at
    most once. Made once per request by the view and passed to every provider."""

    person: Person
    viewer: User
    _answers: dict[Callable[..., Any], Any] = field(default_factory=dict, repr=False)

    def allows(self, check: AccessCheck) -> bool:
        """``check(person, viewer)``, asked the first time only: the same check (the same
        function) from a fact, a section and a timeline source costs its queries once."""
        if check not in self._answers:
            self._answers[check] = check(self.person, self.viewer)
        return self._answers[check]

    def once(self, read: Callable[[Person], T]) -> T:
        """``read(person)``, read the first time only: what both a summary fact and a
        section show (this month's row, the plan in force) is one query, not two. ``read``
        must depend on the person alone, never on the viewer."""
        if read not in self._answers:
            self._answers[read] = read(self.person)
        return self._answers[read]


# --- Sections ---------------------------------------------------------------------------------

SectionBuilder = Callable[[Visit], dict[str, Any] | None]


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
    """Show ``template`` with ``build(visit)``'s context (as ``section``) on the page,
    sections sorted by ``order``. Registering a key again replaces it."""
    SECTIONS[key] = Section(key=key, order=order, title=title, build=build, template=template)


@dataclass(frozen=True)
class RenderedSection:
    key: str
    title: Any
    template: str
    context: dict[str, Any]


def sections_for(visit: Visit) -> list[RenderedSection]:
    rendered = []
    for section in sorted(SECTIONS.values(), key=lambda s: (s.order, s.key)):
        context = section.build(visit)
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


FactBuilder = Callable[[Visit], Sequence[Fact]]
SUMMARY_FACTS: dict[str, tuple[int, FactBuilder]] = {}


def register_summary_fact(key: str, order: int, build: FactBuilder) -> None:
    SUMMARY_FACTS[key] = (order, build)


def summary_facts(visit: Visit) -> list[Fact]:
    facts: list[Fact] = []
    for _order, build in sorted(SUMMARY_FACTS.values(), key=lambda item: item[0]):
        facts.extend(build(visit))
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


# fetch(visit, limit) → at most ``limit`` entries, newest first.
TimelineFetch = Callable[[Visit, int], Iterable[TimelineEntry]]


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
    visit: Visit, kinds: Iterable[str] = (), limit: int = 50
) -> tuple[list[TimelineEntry], bool]:
    """The newest ``limit`` entries of the chosen kinds (all when none), merged newest first,
    and whether there are more. Each source is asked for ``limit + 1`` entries, so the cost is
    one bounded fetch per source whatever the history's length."""
    chosen = set(kinds)
    streams = [
        sorted(source.fetch(visit, limit + 1), reverse=True)
        for source in timeline_kinds()
        if not chosen or source.kind in chosen
    ]
    merged = list(itertools.islice(heapq.merge(*streams, reverse=True), limit + 1))
    return merged[:limit], len(merged) > limit
