"""What participation shows on the staff person page (``people.person_page``): this month's
status, the 12-month strip from the rollups, absences and follow-ups, and their events.

Officers and administrators only, as the dashboards, the absence queue and the follow-up list
(``people.view_office``, ``absences.may_handle``, ``followup.can_follow_up``): counselors do
not see participation anywhere else either."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lib.months import month_start
from participation import absences, followup, rollups
from participation.models import (
    AbsenceRequest,
    AbsenceStatus,
    FollowUp,
    FollowUpStage,
    MonthStatus,
    PersonMonth,
)
from participation.requirements import hours
from participation.views.dashboards import VIEW_PERMISSION, missing_items
from people.models import Person, User
from people.person_page import (
    Fact,
    TimelineEntry,
    Tone,
    Visit,
    register_section,
    register_summary_fact,
    register_timeline_source,
)

RECENT_ABSENCES = 8
OPEN_FOLLOW_UPS = 8
STRIP_MONTHS = 12

MONTH_TONE = {
    MonthStatus.MET: Tone.GOOD,
    MonthStatus.EXCUSED: Tone.GOOD,
    MonthStatus.AT_RISK: Tone.WARN,
    MonthStatus.MISSED: Tone.BAD,
}
ABSENCE_TONE = {
    AbsenceStatus.PENDING: Tone.WARN,
    AbsenceStatus.APPROVED: Tone.GOOD,
    AbsenceStatus.REJECTED: Tone.BAD,
    AbsenceStatus.WITHDRAWN: Tone.NEUTRAL,
}


def may_see(person: Person, user: User) -> bool:
    return user.has_perm(VIEW_PERMISSION)


def _strip_rows(person: Person) -> dict:
    """The person's rows of the strip's months, by month."""
    months = rollups.last_months(timezone.localdate(), STRIP_MONTHS)
    return {row.period: row for row in PersonMonth.objects.filter(person=person, period__in=months)}


def month_facts(visit: Visit) -> list[Fact]:
    if not visit.allows(may_see):
        return []
    person, user = visit.person, visit.viewer
    row = visit.once(_strip_rows).get(month_start(timezone.localdate()))
    facts = []
    if row is None:
        facts.append(Fact(_("This month"), _("not computed yet")))
    else:
        facts.append(
            Fact(
                _("This month"),
                f"{row.get_status_display()} {row.met + row.excused}/{row.required}",
                MONTH_TONE.get(row.status, Tone.NEUTRAL),
                reverse("learning_participation_person", args=[person.pk]),
            )
        )
    if absences.may_handle(user):
        pending = AbsenceRequest.objects.filter(person=person, status=AbsenceStatus.PENDING).count()
        if pending:
            facts.append(Fact(_("Absence requests waiting"), str(pending), Tone.WARN))
    return facts


def participation_section(visit: Visit) -> dict | None:
    if not visit.allows(may_see):
        return None
    person, user = visit.person, visit.viewer
    today = timezone.localdate()
    months = rollups.last_months(today, STRIP_MONTHS)
    rows = visit.once(_strip_rows)
    current = rows.get(month_start(today))
    strip = [(period, rows.get(period)) for period in months]
    context = {
        "person": person,
        "current": current,
        "current_missing": missing_items(current) if current else [],
        "current_hours": (hours(current.study_minutes), hours(current.quota_minutes))
        if current
        else None,
        "strip": strip,
        "months_met": sum(
            1 for row in rows.values() if row.status in (MonthStatus.MET, MonthStatus.EXCUSED)
        ),
        "months_computed": len(rows),
        "detail_url": reverse("learning_participation_person", args=[person.pk]),
        "absences": [],
        "follow_ups": [],
    }
    if absences.may_handle(user):
        context["absences"] = list(
            AbsenceRequest.objects.filter(person=person).order_by("-filed_at", "-pk")[
                :RECENT_ABSENCES
            ]
        )
        context["file_absence_url"] = reverse("learning_absence_file", args=[person.pk])
    if followup.can_follow_up(user):
        context["follow_ups"] = list(
            FollowUp.objects.filter(person=person)
            .exclude(stage=FollowUpStage.RESOLVED)
            .order_by("-opened_at", "-pk")[:OPEN_FOLLOW_UPS]
        )
    return context


def absence_events(visit: Visit, limit: int) -> list[TimelineEntry]:
    if not absences.may_handle(visit.viewer):
        return []
    person = visit.person
    entries = []
    rows = AbsenceRequest.objects.filter(person=person).order_by("-filed_at", "-pk")[:limit]
    for absence in rows:
        url = reverse("learning_absence_detail", args=[absence.pk])
        title = absences.requirement_text(absence) or absence.requirement_key
        entries.append(
            TimelineEntry(
                absence.filed_at,
                "absences",
                _("Absence request filed: %(what)s") % {"what": title},
                absence.reason[:120],
                url,
                Tone.WARN,
            )
        )
        if absence.decided_at:
            entries.append(
                TimelineEntry(
                    absence.decided_at,
                    "absences",
                    _("Absence request %(decision)s: %(what)s")
                    % {"decision": absence.get_status_display(), "what": title},
                    absence.decision_note[:120],
                    url,
                    ABSENCE_TONE.get(absence.status, Tone.NEUTRAL),
                )
            )
    return entries


def follow_up_events(visit: Visit, limit: int) -> list[TimelineEntry]:
    if not followup.can_follow_up(visit.viewer):
        return []
    person = visit.person
    entries = []
    for item in FollowUp.objects.filter(person=person).order_by("-opened_at", "-pk")[:limit]:
        url = reverse("learning_followup_detail", args=[item.pk])
        title = item.requirement or item.requirement_key
        entries.append(
            TimelineEntry(
                item.opened_at,
                "follow_up",
                _("Follow-up opened: %(what)s (%(month)s)")
                % {"what": title, "month": f"{item.period:%Y-%m}"},
                "",
                url,
                Tone.WARN,
            )
        )
        if item.resolved_at:
            entries.append(
                TimelineEntry(
                    item.resolved_at,
                    "follow_up",
                    _("Follow-up resolved: %(what)s") % {"what": title},
                    item.resolution,
                    url,
                    Tone.GOOD,
                )
            )
    return entries


def register() -> None:
    register_summary_fact("participation", 10, month_facts)
    register_section(
        "participation",
        10,
        gettext_lazy("Participation"),
        participation_section,
        "participation/person_page/participation.html",
    )
    register_timeline_source("absences", 30, gettext_lazy("Absences"), absence_events)
    register_timeline_source("follow_up", 35, gettext_lazy("Follow-ups"), follow_up_events)
