"""What a counselor sees of a result: the scale profile, item answers, history chart, reliable
change, and the PDF report. Pure presentation over stored rows; no scoring happens here."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from assessments.models import Result, localized_title
from assessments.norms import ReliableChange, reliable_change
from assessments.schema import InstrumentDef
from assessments.skips import skipped_items
from lib.pdf import pdf_document


@dataclass(frozen=True)
class ScaleRow:
    code: str
    label: str
    raw: object
    score: object
    band: str
    severity: int | None
    change: ReliableChange | None


@dataclass(frozen=True)
class AnswerRow:
    number: int
    text: str
    option: str
    value: object
    critical: bool


def scale_profile(result: Result, previous: Result | None = None) -> list[ScaleRow]:
    definition = result.instrument_version.as_definition()
    language = get_language()
    rows = []
    for scale in definition.scales:
        stored = result.scales.get(scale.code, {})
        band = scale.band_for(stored.get("score"))
        change = None
        if previous is not None:
            before = previous.scales.get(scale.code, {}).get("score")
            change = reliable_change(definition.slug, scale.code, before, stored.get("score"))
        rows.append(
            ScaleRow(
                code=scale.code,
                label=scale.label.for_language(language),
                raw=stored.get("raw"),
                score=stored.get("score"),
                band=band.label.for_language(language) if band else "—",
                severity=band.severity if band else None,
                change=change,
            )
        )
    return rows


def item_answers(result: Result) -> list[AnswerRow]:
    definition: InstrumentDef = result.instrument_version.as_definition()
    language = get_language()
    count = len(definition.items)
    answers = (list(result.response.answers) + [None] * count)[:count]
    skipped = skipped_items(definition, answers)
    rows = []
    for item, index, skip in zip(definition.items, answers, skipped, strict=True):
        if skip:
            # Not asked (skip logic): scored as its fixed value, as the scorer did.
            option, value = _("Skipped"), item.skipped_value
        elif index is None:
            option, value = "—", None
        else:
            option, value = (
                item.options[index].label.for_language(language),
                item.scored_values[index],
            )
        rows.append(
            AnswerRow(
                number=item.number,
                text=item.text.for_language(language),
                option=option,
                value=value,
                critical=item.number in result.critical_items,
            )
        )
    return rows


def critical_questions(answers: list[AnswerRow]) -> list[str]:
    """Each critical item named by its number and question ("question 9 “…”"), so nobody
    reads the item number as a count. For the eyes of those who may see the answers."""
    return [
        _("question %(number)s “%(text)s”") % {"number": a.number, "text": a.text}
        for a in answers
        if a.critical
    ]


def highest_band(result: Result) -> str | None:
    """The label of the most severe band the result reached (the one behind
    ``max_severity``), with its scale's name when the instrument has several scales; None
    when no scale fell in a band."""
    definition = result.instrument_version.as_definition()
    language = get_language()
    best = None
    for scale in definition.scales:
        band = scale.band_for(result.scales.get(scale.code, {}).get("score"))
        if band is not None and (best is None or band.severity > best[1].severity):
            best = (scale, band)
    if best is None:
        return None
    scale, band = best
    label = band.label.for_language(language)
    if len(definition.scales) > 1:
        return _("%(scale)s: %(band)s") % {
            "scale": scale.label.for_language(language),
            "band": label,
        }
    return label


def history(result: Result) -> list[Result]:
    """The person's results on the same instrument, oldest first: every version of the
    result's scoring series (``scoring_series``), so scores on another metric (Rosenberg v1
    0–30 against v2 10–40) are never drawn or compared with it."""
    series = result.instrument_version.as_definition().scoring_series
    rows = (
        Result.objects.filter(
            person_id=result.person_id,
            instrument_version__instrument_id=result.instrument_version.instrument_id,
        )
        .select_related("instrument_version")
        .order_by("created_at", "pk")
    )
    return [r for r in rows if r.instrument_version.as_definition().scoring_series == series]


def previous_result(result: Result, results: list[Result]) -> Result | None:
    earlier = [r for r in results if (r.created_at, r.pk) < (result.created_at, result.pk)]
    return earlier[-1] if earlier else None


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    points: list[dict]
    polyline: str
    y_max: float
    scale_label: str


def history_chart(result: Result, results: list[Result]) -> Chart | None:
    """An SVG line chart (drawn by the template) of the first scale's score over time."""
    definition = result.instrument_version.as_definition()
    scale = definition.scales[0]
    values = [(r, r.scales.get(scale.code, {}).get("score")) for r in results]
    values = [(r, v) for r, v in values if isinstance(v, int | float)]
    if not values:
        return None
    width, height, pad = 480, 160, 28
    bounds = [band.high for band in scale.bands if band.high is not None]
    y_max = max([*(v for _, v in values), *bounds, 1])
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    points = []
    for i, (r, v) in enumerate(values):
        x = pad + i * step
        y = height - pad - (v / y_max) * (height - 2 * pad)
        points.append(
            {
                "x": round(x, 1),
                "y": round(y, 1),
                "score": v,
                "date": timezone.localtime(r.created_at).date(),
                "current": r.pk == result.pk,
            }
        )
    polyline = " ".join(f"{p['x']},{p['y']}" for p in points)
    label = scale.label.for_language(get_language())
    return Chart(width, height, points, polyline, y_max, label)


def result_pdf(result: Result) -> bytes:
    """The printable report of one result (profile, answers, review)."""
    language = get_language()
    definition = result.instrument_version.as_definition()
    results = history(result)
    previous = previous_result(result, results)
    person = result.person
    blocks: list = [
        (
            "text",
            _("%(name)s (%(case)s) · %(office)s")
            % {"name": person.full_name, "case": person.case_number, "office": person.office.name},
        ),
        (
            "small",
            _("Instrument version %(version)s · scoring engine %(engine)s · submitted %(when)s")
            % {
                "version": result.instrument_version.version,
                "engine": result.engine_version,
                "when": timezone.localtime(result.created_at).strftime("%Y-%m-%d %H:%M"),
            },
        ),
        ("small", _("Screening, not a diagnosis.")),
        ("heading", _("Scale profile")),
        (
            "table",
            [
                [_("Scale"), _("Raw"), _("Score"), _("Band"), _("Change (RCI)")],
                *[
                    [
                        row.label,
                        row.raw,
                        row.score,
                        row.band,
                        _("not available") if row.change is None else row.change.rci,
                    ]
                    for row in scale_profile(result, previous)
                ],
            ],
        ),
    ]
    answers = item_answers(result)
    if result.critical_items:
        named = critical_questions(answers) or [str(n) for n in result.critical_items]
        blocks.append(("text", _("Critical items: %(items)s") % {"items": "; ".join(named)}))
    blocks += [
        ("heading", _("Answers")),
        (
            "table",
            [
                [_("Item"), _("Question"), _("Answer"), _("Value")],
                *[[a.number, a.text, a.option, a.value] for a in answers],
            ],
        ),
    ]
    review = getattr(result, "review", None)
    if review is not None and review.signed_at is not None:
        blocks += [
            ("heading", _("Counselor's interpretation")),
            ("text", review.interpretation),
            (
                "small",
                _("Signed by %(name)s on %(when)s")
                % {
                    "name": review.counselor.get_full_name(),
                    "when": timezone.localtime(review.signed_at).strftime("%Y-%m-%d %H:%M"),
                },
            ),
        ]
    blocks.append(("small", definition.source))
    return pdf_document(definition.title.for_language(language), blocks)


def result_names(pks: set[int]) -> dict[int, str]:
    """Results as the access log names them: "<questionnaire> result (2026-11-03)", one query
    (registered with ``audit.labels.register_object_namer``)."""
    rows = Result.objects.filter(pk__in=pks).values_list(
        "pk",
        "instrument_version__instrument__title",
        "instrument_version__instrument__slug",
        "created_at",
    )
    return {
        pk: _("%(questionnaire)s result (%(date)s)")
        % {
            "questionnaire": localized_title(title, slug),
            "date": f"{timezone.localtime(created):%Y-%m-%d}",
        }
        for pk, title, slug, created in rows
    }
