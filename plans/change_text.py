"""A plan's history in plain sentences, per reader.

Each ``PlanChange`` stores what changed as a small dict (``plans.history.record_change``);
the plan page shows it as sentences, never as the raw dict. The rule is the rest of the
page's (``plans.access.may_see_results``): readers who may not see the person's results
(officers, administrators without ``assessments.view_result``) read no questionnaire name,
no result number and no score. For them, questionnaire names and slugs in stored text
(lines written at approval, reasons) are replaced by "a questionnaire", and the reason a
signed result review writes is replaced by "Needs reassessed".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _

from assessments.models import Instrument
from courses.models import Topic
from plans.models import AppointmentStatus, Intensity, Phase, PlanChange, ReviewDecision
from plans.schema import Domain, InterventionKind, Level

# Written by plans.drafting.on_review_signed in the site's language; must match its msgid.
REVIEW_SIGNED = "Review of a questionnaire result signed (result %(id)s)"


@dataclass(frozen=True)
class HistoryEntry:
    change: PlanChange
    reason: str
    lines: list[str]


class _Reader:
    """What one reader may see: instrument names (``show_scores``) or none of them."""

    def __init__(self, show_scores: bool, titles: dict[str, str], goals: dict[int, str]):
        self.show_scores = show_scores
        self.titles = titles
        self.goals = goals
        self.hidden = None if show_scores else _instrument_pattern()
        self.review_signed = None if show_scores else _review_signed_pattern()

    def instrument(self, slug: str) -> str:
        if not self.show_scores:
            return _("a questionnaire")
        return self.titles.get(slug, slug)

    def text(self, value: object) -> str:
        """Stored text for this reader: questionnaire names out unless ``show_scores``."""
        text = str(value or "")
        if self.hidden is None:
            return text
        if self.review_signed.fullmatch(text.strip()):
            return _("Needs reassessed")
        return self.hidden.sub(_("a questionnaire"), text) if self.hidden.pattern else text


def _instrument_pattern() -> re.Pattern:
    """Every instrument's slug and titles (both languages), longest first. An ASCII name only
    as a whole word, and loosely: ``phq9`` also matches "PHQ-9" and "phq 9"."""
    names: set[str] = set()
    for slug, title in Instrument.objects.values_list("slug", "title"):
        names.add(slug)
        names.update(str(t) for t in (title or {}).values() if t)
    parts = [_loose(n) for n in sorted(names, key=len, reverse=True) if n.strip()]
    return re.compile("|".join(parts), re.IGNORECASE) if parts else re.compile("")


def _loose(name: str) -> str:
    if not name.isascii():
        return re.escape(name)
    pieces = re.findall(r"[A-Za-z]+|[0-9]+|[^A-Za-z0-9]+", name)
    # Between words a dash, underscore or space may be there or not; other punctuation (the
    # brackets of "Patient Health Questionnaire (PHQ-9)") must be there as written.
    loose = r"[-_ ]?".join(
        re.escape(piece) if piece.isalnum() or piece.strip("-_ ") else r"[-_ ]?" for piece in pieces
    )
    return rf"(?<![A-Za-z0-9]){loose}(?![A-Za-z0-9])"


def _review_signed_pattern() -> re.Pattern:
    """The reason ``on_review_signed`` writes, in any of the site's languages."""
    forms = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            head, _sep, tail = _(REVIEW_SIGNED).partition("%(id)s")
        forms.append(re.escape(head) + r"\d+" + re.escape(tail))
    return re.compile("|".join(forms))


def _label(choices, value: object) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _arrow(before: object, after: object) -> dict[str, str]:
    return {"before": str(before if before not in (None, "") else "—"), "after": str(after)}


def _intervention(details: dict, reader: _Reader) -> str:
    """One intervention in the staff wording of ``presentation.describe_intervention``."""
    kind = details.get("kind")
    if kind == InterventionKind.COUNSELING:
        return _("Counseling every %(days)s days, %(sessions)s sessions") % {
            "days": details.get("interval_days"),
            "sessions": details.get("sessions"),
        }
    if kind == InterventionKind.COURSE:
        what = details.get("slug") or _("courses on %(topic)s") % {
            "topic": _label(Topic, details.get("topic", ""))
        }
        return _("Course: %(what)s") % {"what": what}
    if kind == InterventionKind.LECTURE_SERIES:
        return _("Lecture series: %(topic)s") % {"topic": _label(Topic, details.get("topic", ""))}
    if kind == InterventionKind.RETEST:
        return _("Retest: %(title)s after %(days)s days") % {
            "title": reader.instrument(details.get("instrument", "")),
            "days": details.get("interval_days"),
        }
    if kind == InterventionKind.REFERRAL:
        return _("Referral: %(service)s (contact: %(contact)s)") % {
            "service": details.get("service"),
            "contact": details.get("contact"),
        }
    return _("An intervention")


def _goal(state: dict) -> str:
    return _("“%(title)s” (%(domain)s), target: %(target)s, due %(due)s") % {
        "title": state.get("title", ""),
        "domain": _label(Domain, state.get("domain", "")),
        "target": state.get("target", ""),
        "due": state.get("due", ""),
    }


GOAL_FIELDS = {"domain": Domain, "title": None, "target": None, "due": None}


def _goal_lines(goals: dict, reader: _Reader) -> Iterable[str]:
    for state in goals.get("added", []):
        yield _("Goal added: %(goal)s") % {"goal": _goal(state)}
    for state in goals.get("removed", []):
        yield _("Goal removed: %(goal)s") % {"goal": _goal(state)}
    for pk, fields in goals.get("changed", {}).items():
        title = reader.goals.get(int(pk), "")
        for name, pair in fields.items():
            choices = GOAL_FIELDS.get(name)
            before, after = (_label(choices, v) if choices else v for v in pair)
            field = {
                "domain": _("area"),
                "title": _("title"),
                "target": _("target"),
                "due": _("due date"),
            }.get(name, name)
            yield _("Goal “%(goal)s”, %(field)s: %(before)s → %(after)s") % {
                "goal": title or "—",
                "field": field,
                **_arrow(before, after),
            }


def _plan_lines(fields: dict) -> Iterable[str]:
    for name, (before, after) in fields.items():
        if name == "phase":
            yield _("Phase: %(before)s → %(after)s") % _arrow(
                _label(Phase, before), _label(Phase, after)
            )
        elif name == "support_intensity":
            yield _("Support intensity: %(before)s → %(after)s") % _arrow(
                _label(Intensity, before), _label(Intensity, after)
            )
        elif name == "intensity_explanation":
            yield _("The explanation of the support intensity was rewritten.")


def describe_diff(diff: dict, reader: _Reader) -> list[str]:
    """The sentences of one stored change for ``reader``; keys nobody knows are left out."""
    lines: list[str] = []
    if "from_version" in diff:
        lines.append(_("Started from version %(version)s") % {"version": diff["from_version"]})
    if "levels" in diff:
        levels = "；".join(
            f"{_label(Domain, domain)}：{_label(Level, level)}"
            for domain, level in diff["levels"].items()
        )
        lines.append(_("Needs by area: %(levels)s") % {"levels": levels})
    if diff.get("levels_changed"):
        areas = "、".join(_label(Domain, d) for d in diff["levels_changed"])
        lines.append(_("Needs changed in: %(areas)s") % {"areas": areas})
    if "intensity" in diff:
        before, after = diff["intensity"]
        if before != after:
            lines.append(
                _("Support intensity: %(before)s → %(after)s")
                % _arrow(_label(Intensity, before), _label(Intensity, after))
            )
    lines += _plan_lines(diff.get("plan", {}))
    lines += _goal_lines(diff.get("goals", {}), reader)
    interventions = diff.get("interventions", {})
    for details in interventions.get("added", []):
        lines.append(_("Intervention added: %(what)s") % {"what": _intervention(details, reader)})
    for details in interventions.get("removed", []):
        lines.append(_("Intervention removed: %(what)s") % {"what": _intervention(details, reader)})
    for before, after in interventions.get("changed", {}).values():
        lines.append(
            _("Intervention changed: %(before)s → %(after)s")
            % _arrow(_intervention(before, reader), _intervention(after, reader))
        )
    for decision in diff.get("decisions", []):
        text = _label(ReviewDecision, decision.get("decision"))
        if decision.get("met"):
            text = _("closed, target met")
        lines.append(
            _("Goal “%(goal)s”: %(decision)s")
            % {"goal": reader.goals.get(decision.get("goal"), "—"), "decision": text}
        )
    lines += [reader.text(line) for line in diff.get("put_in_place", [])]
    lines += [
        _("Not put in place: %(warning)s") % {"warning": reader.text(line)}
        for line in diff.get("warnings", [])
    ]
    for item in diff.get("retests_cancelled", []):
        lines.append(
            _("Retest cancelled: %(title)s") % {"title": reader.instrument(item.get("instrument"))}
        )
    if "status" in diff:
        before, after = diff["status"]
        lines.append(
            _("Appointment: %(before)s → %(after)s")
            % _arrow(_label(AppointmentStatus, before), _label(AppointmentStatus, after))
        )
    if "next_review" in diff:
        lines.append(
            _("Next review: %(date)s") % {"date": diff["next_review"]}
            if diff["next_review"]
            else _("No further review is scheduled.")
        )
    return lines


def history_entries(
    changes: Iterable[PlanChange], *, show_scores: bool, titles: dict[str, str], goals: dict
) -> list[HistoryEntry]:
    """``changes`` as the page shows them to a reader who may (``show_scores``) or may not see
    the person's results; ``titles`` maps instrument slugs to titles, ``goals`` goal ids to
    titles."""
    reader = _Reader(show_scores, titles, goals)
    return [
        HistoryEntry(change=c, reason=reader.text(c.reason), lines=describe_diff(c.diff, reader))
        for c in changes
    ]
