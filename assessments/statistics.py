"""Population statistics for administrators: band distribution per office and period, and
Cronbach's alpha per instrument version. Counts only, never a person.

Small cells: any count below ``SUPPRESS_BELOW`` persons (zero included) is shown as "<5", and
no row or column totals are given, so a hidden cell cannot be worked out by subtraction.
Each person counts once per (office, period, questionnaire): their latest result in the
period. Offices are the persons' current offices.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.fields.json import KT
from django.db.models.functions import TruncMonth, TruncQuarter
from django.utils import timezone
from django.utils.translation import get_language

from assessments.models import Instrument, InstrumentVersion, Response, Result
from assessments.schema import InstrumentDef, ScaleMethod
from assessments.skips import skipped_matrix, skipped_values
from people.models import Office

SUPPRESS_BELOW = 5
SUPPRESSED = "<5"
NO_BAND = ""
PERIODS = {"month": TruncMonth, "quarter": TruncQuarter}


def suppress(count: int) -> int | str:
    """``count`` as shown: below ``SUPPRESS_BELOW`` (zero too) it becomes "<5"."""
    return count if count >= SUPPRESS_BELOW else SUPPRESSED


def period_label(start: dt.datetime | dt.date, period: str) -> str:
    if period == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}-{start.month:02d}"


# --- Cronbach's alpha (pure) -------------------------------------------------------------------


@dataclass(frozen=True)
class Alpha:
    alpha: float | None  # None: undefined (fewer than two complete responses or items, or
    n: int  # the total score does not vary)
    k: int


def cronbach_alpha(items: pd.DataFrame) -> Alpha:
    """Cronbach's alpha of ``items`` (one row per respondent, one column per item, scored
    values). Rows with a missing item are left out (listwise).

        alpha = k / (k − 1) · (1 − Σ var(item) / var(total))   (sample variances)
    """
    complete = items.dropna(axis=0, how="any").astype(float)
    n, k = complete.shape
    if n < 2 or k < 2:
        return Alpha(None, n, k)
    total_variance = float(complete.sum(axis=1).var(ddof=1))
    if not math.isfinite(total_variance) or total_variance <= 1e-12:
        return Alpha(None, n, k)
    item_variance = float(complete.var(axis=0, ddof=1).sum())
    return Alpha(k / (k - 1) * (1 - item_variance / total_variance), n, k)


# --- Filters -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatisticsFilter:
    instrument: Instrument
    period: str = "month"  # "month" or "quarter"
    since: dt.date | None = None
    until: dt.date | None = None

    def describe(self) -> str:
        return (
            f"instrument={self.instrument.slug} period={self.period} "
            f"since={self.since or ''} until={self.until or ''}"
        )


def results_in_scope(user, flt: StatisticsFilter):
    """Results of ``flt.instrument`` about persons in the offices ``user`` may see."""
    results = Result.objects.filter(
        instrument_version__instrument=flt.instrument,
        person__office__in=Office.objects.visible_to(user).values("pk"),
    )
    if flt.since:
        results = results.filter(created_at__date__gte=flt.since)
    if flt.until:
        results = results.filter(created_at__date__lte=flt.until)
    return results


# --- Band distribution -------------------------------------------------------------------------


@dataclass(frozen=True)
class BandRow:
    office: str
    period: str
    cells: list[int | str]  # one per ``BandTable.bands``; "<5" when suppressed


@dataclass(frozen=True)
class BandTable:
    scale_code: str
    scale_label: str
    bands: list[tuple[str, str]]  # (code, label) in score order; ("", "—") = no band
    rows: list[BandRow]


def band_tables(user, flt: StatisticsFilter, definition: InstrumentDef) -> list[BandTable]:
    """One table per banded scale of the instrument; one query per table, whatever the
    number of results, offices or periods."""
    language = get_language()
    truncate = PERIODS[flt.period]
    tables = []
    for scale in definition.scales:
        if not scale.bands:
            continue
        counts = _band_counts(user, flt, truncate, scale.code)
        bands = [(b.code, b.label.for_language(language)) for b in sorted(scale.bands, key=_low)]
        known = {code for code, _ in bands}
        if any(band not in known for (_, _, band) in counts):
            bands.append((NO_BAND, "—"))
        keys = sorted({(office, period) for (office, period, _) in counts})
        rows = [
            BandRow(
                office=office_name,
                period=period_label(period, flt.period),
                cells=[
                    suppress(counts.get(((office_path, office_name), period, code), 0))
                    for code, _ in bands
                ],
            )
            for (office_path, office_name), period in keys
        ]
        tables.append(BandTable(scale.code, scale.label.for_language(language), bands, rows))
    return tables


def _low(band) -> float:
    return band.low


def _band_counts(user, flt: StatisticsFilter, truncate, scale_code: str) -> dict:
    """{((office path, office name), period start, band code or ""): persons} in one query."""
    tz = timezone.get_current_timezone()
    later = (
        Result.objects.filter(
            person_id=OuterRef("person_id"),
            instrument_version__instrument_id=flt.instrument.pk,
        )
        .annotate(period=truncate("created_at", tzinfo=tz))
        .filter(period=OuterRef("period"))
        .filter(
            Q(created_at__gt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), pk__gt=OuterRef("pk"))
        )
    )
    if flt.since:
        later = later.filter(created_at__date__gte=flt.since)
    if flt.until:
        later = later.filter(created_at__date__lte=flt.until)
    rows = (
        results_in_scope(user, flt)
        .annotate(period=truncate("created_at", tzinfo=tz))
        .filter(~Exists(later))
        .annotate(
            band=KT(f"scales__{scale_code}__band"),
            office_path=F("person__office__path"),
            office_name=F("person__office__name"),
        )
        .values("office_path", "office_name", "period", "band")
        .annotate(persons=Count("person_id", distinct=True))
        .order_by()
    )
    counts: dict = {}
    for row in rows:
        key = ((row["office_path"], row["office_name"]), _as_date(row["period"]), row["band"] or "")
        counts[key] = counts.get(key, 0) + row["persons"]
    return counts


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


# --- Reliability -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlphaRow:
    version: int
    scale_code: str
    scale_label: str
    alpha: float | None
    n: int
    k: int


def alpha_rows(user, flt: StatisticsFilter) -> list[AlphaRow]:
    """Cronbach's alpha per instrument version and per sum/mean scale of two or more items,
    from the stored answers of scored results in scope (two queries)."""
    language = get_language()
    versions = {
        v.pk: v
        for v in InstrumentVersion.objects.filter(instrument=flt.instrument).order_by("version")
    }
    answers: dict[int, list[list]] = {pk: [] for pk in versions}
    for version_id, given in Response.objects.filter(
        result__in=results_in_scope(user, flt)
    ).values_list("result__instrument_version_id", "answers"):
        answers.setdefault(version_id, []).append(given)
    rows = []
    for pk, version in versions.items():
        definition = version.as_definition()
        frame = _scored_frame(definition, answers.get(pk, []))
        for scale in definition.scales:
            if scale.method not in (ScaleMethod.SUM, ScaleMethod.MEAN) or len(scale.items) < 2:
                continue
            result = cronbach_alpha(frame[[n - 1 for n in scale.items]])
            rows.append(
                AlphaRow(
                    version=version.version,
                    scale_code=scale.code,
                    scale_label=scale.label.for_language(language),
                    alpha=result.alpha,
                    n=result.n,
                    k=result.k,
                )
            )
    return rows


def _scored_frame(definition: InstrumentDef, answers: Sequence[Sequence]) -> pd.DataFrame:
    """Scored item values (reverse keying applied; a skipped item its fixed value, as the
    scorer counts it), NaN where unanswered or malformed."""
    count = len(definition.items)
    indexes = np.full((len(answers), count), np.nan)
    for row, given in enumerate(answers):
        for column, value in enumerate(list(given)[:count]):
            if isinstance(value, int) and not isinstance(value, bool):
                indexes[row, column] = value
    values = np.full(indexes.shape, np.nan)
    for column, table in enumerate(definition.value_tables):
        present = ~np.isnan(indexes[:, column])
        chosen = indexes[present, column].astype(np.intp)
        valid = (chosen >= 0) & (chosen < len(table))
        target = np.flatnonzero(present)[valid]
        values[target, column] = np.asarray(table, dtype=float)[chosen[valid]]
    skipped = skipped_matrix(definition, values)
    values = np.where(skipped, skipped_values(definition)[np.newaxis, :], values)
    return pd.DataFrame(values, columns=range(count))
