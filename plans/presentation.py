"""Plain-language descriptions of needs evidence and interventions, for staff pages, the
person's page and the PDF. Pure presentation over stored rows."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from assessments.models import Instrument
from courses.models import Topic
from plans.models import Intervention, Plan
from plans.needs import Evidence, NeedsProfile
from plans.schema import FACTS, Domain, InterventionKind, Level


def instrument_titles() -> dict[str, str]:
    return {i.slug: i.localized_title() for i in Instrument.objects.all()}


def _topic(value: str) -> str:
    try:
        return str(Topic(value).label)
    except ValueError:
        return value


def _fact(name: str, value: str) -> tuple[str, str]:
    choices = FACTS.get(name)
    field = {
        "employment": _("Employment"),
        "education": _("Education"),
        "housing": _("Housing"),
        "finances": _("Finances"),
        "family": _("Family situation"),
        "social_ties": _("Social ties"),
        "attitude": _("Attitude towards the offence"),
    }.get(name, name)
    try:
        label = str(choices(value).label) if choices else value
    except ValueError:
        label = value
    return field, label


def describe_evidence(evidence: Evidence, show_scores: bool, titles: dict[str, str]) -> str:
    """One line of evidence. Questionnaire details only when ``show_scores``."""
    if evidence.from_questionnaire and not show_scores:
        return _("A reviewed questionnaire result (details are for the person's counselors).")
    title = titles.get(evidence.instrument, evidence.instrument)
    if evidence.kind == "critical":
        return _("%(title)s (result %(id)s): a critical item was answered") % {
            "title": title,
            "id": evidence.result_id,
        }
    if evidence.kind == "result":
        language = get_language() or ""
        label = evidence.band_label.get("en" if language.startswith("en") else "zh-hans")
        return _("%(title)s (result %(id)s): %(band)s, score %(score)s") % {
            "title": title,
            "id": evidence.result_id,
            "band": label or evidence.band,
            "score": evidence.score,
        }
    if evidence.kind == "fact":
        field, label = _fact(evidence.fact, evidence.value)
        return _("Intake: %(field)s — %(value)s") % {"field": field, "value": label}
    if evidence.kind == "participation":
        return ngettext(
            "Participation: %(percent)s%% of the study quota last month "
            "(%(minutes)s of %(quota)s minutes)",
            "Participation: %(percent)s%% of the study quota over the last %(months)s months "
            "(%(minutes)s of %(quota)s minutes)",
            evidence.months or 0,
        ) % {
            "percent": evidence.percent,
            "months": evidence.months,
            "minutes": evidence.minutes,
            "quota": evidence.quota_minutes,
        }
    if evidence.kind == "quiz":
        return _(
            "Quizzes: %(right)s of %(answered)s questions right at the first attempt "
            "(%(percent)s%%)"
        ) % {"right": evidence.right, "answered": evidence.answered, "percent": evidence.percent}
    return evidence.kind


@dataclass
class NeedRow:
    domain: str
    label: str
    level: str
    level_label: str
    evidence: list[str]


def need_rows(plan: Plan, show_scores: bool, with_evidence: bool = True) -> list[NeedRow]:
    profile = NeedsProfile.from_dict(plan.needs)
    titles = instrument_titles() if with_evidence and show_scores else {}
    rows = []
    for domain in Domain.values:
        need = profile.domains[domain]
        evidence = []
        if with_evidence:
            evidence = [describe_evidence(e, show_scores, titles) for e in need.evidence]
            # The same "details for counselors" line once, however many results.
            evidence = list(dict.fromkeys(evidence))
        rows.append(
            NeedRow(
                domain=domain,
                label=str(Domain(domain).label),
                level=need.level,
                level_label=str(Level(need.level).label),
                evidence=evidence,
            )
        )
    return rows


def describe_intervention(
    intervention: Intervention,
    titles: dict[str, str],
    for_person: bool = False,
    name_instruments: bool = True,
) -> str:
    """What the intervention is, in staff wording or (``for_person``) in plain, warm words.
    Without ``name_instruments`` a retest does not say which questionnaire (for readers who
    may not see the person's results: officers, the case-file PDF)."""
    details = intervention.details
    kind = intervention.kind
    if kind == InterventionKind.COUNSELING:
        days, sessions = details.get("interval_days"), details.get("sessions")
        if for_person:
            return _(
                "A talk with your counselor every %(days)s days (%(sessions)s times in all)"
            ) % {"days": days, "sessions": sessions}
        return _("Counseling every %(days)s days, %(sessions)s sessions") % {
            "days": days,
            "sessions": sessions,
        }
    if kind == InterventionKind.COURSE:
        enrolled = [e.course.title for e in intervention.enrollments.all()]
        what = (
            "、".join(enrolled)
            if enrolled
            else (
                details.get("slug")
                or _("courses on %(topic)s") % {"topic": _topic(details.get("topic", ""))}
            )
        )
        if for_person:
            return _("Study: %(what)s") % {"what": what}
        return _("Course: %(what)s") % {"what": what}
    if kind == InterventionKind.LECTURE_SERIES:
        topic = _topic(details.get("topic", ""))
        if for_person:
            return _("Take part in the lectures on %(topic)s") % {"topic": topic}
        return _("Lecture series: %(topic)s") % {"topic": topic}
    if kind == InterventionKind.RETEST:
        slug = details.get("instrument", "")
        title = titles.get(slug, slug) if name_instruments else _("a questionnaire")
        due = intervention.assignment.due if intervention.assignment_id else None
        if for_person:
            if due:
                return _("Answer the questionnaire “%(title)s” again by %(due)s") % {
                    "title": title,
                    "due": due.isoformat(),
                }
            return _("Answer the questionnaire “%(title)s” again in about %(days)s days") % {
                "title": title,
                "days": details.get("interval_days"),
            }
        return _("Retest: %(title)s after %(days)s days") % {
            "title": title,
            "days": details.get("interval_days"),
        }
    if kind == InterventionKind.REFERRAL:
        if for_person:
            return _("Get help from %(service)s. Contact: %(contact)s") % {
                "service": details.get("service"),
                "contact": details.get("contact"),
            }
        return _("Referral: %(service)s (contact: %(contact)s)") % {
            "service": details.get("service"),
            "contact": details.get("contact"),
        }
    return kind
