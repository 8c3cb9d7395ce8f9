"""The plan as a formal document for the case file: needs by area (levels only, never scores),
goals with targets and due dates, interventions, sign-off lines for the person, the counselor
and the officer, and page numbers. Chinese text through ``lib.pdf``'s CJK font and styles."""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from lib.pdf import document_template, paragraph, register_font, table
from plans.models import Plan
from plans.presentation import describe_intervention, instrument_titles, need_rows


def page_label(label: str, page: int) -> str:
    return _("%(label)s · page %(page)s") % {"label": label, "page": page}


def footer(label: str):
    """The ``onPage`` callback: the case number, version and page number at the foot."""

    def draw(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(register_font(), 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, page_label(label, document.page))
        canvas.restoreState()

    return draw


# Each table's column widths (they fill the 174 mm between the margins) and the columns never
# broken: a date in the goals' "Due" column reads on one line.
TABLE_LAYOUTS: dict[str, tuple[list[float], set[int]]] = {
    "needs": ([120 * mm, 54 * mm], set()),
    "goals": ([38 * mm, 44 * mm, 22 * mm, 48 * mm, 22 * mm], {2}),
}


def _signatures(labels: list[str]) -> Table:
    rows = [[paragraph(label, "text"), "", paragraph(_("Date:"), "text"), ""] for label in labels]
    table = Table(rows, colWidths=[45 * mm, 60 * mm, 15 * mm, 35 * mm], rowHeights=14 * mm)
    table.setStyle(
        TableStyle(
            [
                # The empty cells too: a Table sets its font (Helvetica by default) for them.
                ("FONTNAME", (0, 0), (-1, -1), register_font()),
                ("LINEBELOW", (1, 0), (1, -1), 0.6, "black"),
                ("LINEBELOW", (3, 0), (3, -1), 0.6, "black"),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ]
        )
    )
    return table


def sign_off_labels() -> list[str]:
    return [_("Supervised person:"), _("Counselor:"), _("Case officer (justice office):")]


def plan_blocks(plan: Plan) -> list[tuple[str, object]]:
    """The document as blocks: ("title"|"heading"|"text"|"small", str), ("needs"|"goals",
    rows), ("signatures", labels). No questionnaire scores, bands or answers."""
    person = plan.person
    titles = instrument_titles()
    blocks: list[tuple[str, object]] = [
        ("title", _("Individual assistance plan")),
        (
            "text",
            _("%(name)s (%(case)s) · %(office)s")
            % {"name": person.full_name, "case": person.case_number, "office": person.office.name},
        ),
        (
            "small",
            _("Version %(version)s · %(status)s · %(phase)s · supervision %(start)s – %(end)s")
            % {
                "version": plan.version,
                "status": plan.get_status_display(),
                "phase": plan.get_phase_display(),
                "start": person.supervision_start.isoformat(),
                "end": person.supervision_end.isoformat(),
            },
        ),
    ]
    if plan.approved_at:
        blocks.append(
            (
                "small",
                _("Approved by %(name)s on %(when)s")
                % {
                    "name": plan.approved_by.get_full_name() if plan.approved_by else "—",
                    "when": timezone.localtime(plan.approved_at).strftime("%Y-%m-%d"),
                },
            )
        )
    blocks += [
        (
            "heading",
            _("Support intensity: %(level)s") % {"level": plan.get_support_intensity_display()},
        ),
        ("text", plan.intensity_explanation),
        ("heading", _("Needs by area")),
        (
            "needs",
            [
                [_("Area"), _("Level")],
                *[[row.label, row.level_label] for row in need_rows(plan, False, False)],
            ],
        ),
        ("heading", _("Goals and what will help")),
    ]
    rows = [[_("Goal"), _("Measurable target"), _("Due"), _("What will help"), _("Status")]]
    for goal in plan.goals.prefetch_related("interventions__enrollments__course"):
        rows.append(
            [
                f"{goal.title}\n({goal.get_domain_display()})",
                goal.target,
                goal.due.isoformat(),
                "\n".join(
                    f"• {describe_intervention(i, titles, name_instruments=False)}"
                    for i in goal.interventions.all()
                ),
                goal.get_status_display(),
            ]
        )
    blocks += [
        ("goals", rows),
        ("small", _("Screening results are used for planning only and are not a diagnosis.")),
        ("signatures", sign_off_labels()),
    ]
    return blocks


def plan_pdf(plan: Plan) -> bytes:
    """The printable plan (see ``plan_blocks``), with page numbers."""
    blocks = plan_blocks(plan)
    buffer = io.BytesIO()
    document = document_template(
        buffer, title=str(blocks[0][1]), author=plan.person.office.name, bottom_margin=20 * mm
    )
    story: list = []
    for kind, content in blocks:
        if kind in TABLE_LAYOUTS:
            widths, unwrapped = TABLE_LAYOUTS[kind]
            columns = set(range(len(content[0]))) - unwrapped
            story += [
                table(content, widths=widths, wrap=columns, style="cell"),
                Spacer(1, 4 * mm),
            ]
        elif kind == "signatures":
            story += [
                Spacer(1, 8 * mm),
                KeepTogether([paragraph(_("Sign-off"), "heading"), _signatures(content)]),
            ]
        else:
            story.append(paragraph(content, kind))
    label = f"{plan.person.case_number} · v{plan.version}"
    document.build(story, onFirstPage=footer(label), onLaterPages=footer(label))
    return buffer.getvalue()
