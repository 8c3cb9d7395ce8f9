"""Statistics as downloadable tables: CSV (UTF-8 with BOM, so Excel reads Chinese) and Excel."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from assessments.models import Instrument, InstrumentVersion
from assessments.schema import InstrumentDef
from assessments.statistics import AlphaRow, BandTable
from lib import downloads

XLSX_TYPE = downloads.XLSX_TYPE
TABLES = ("bands", "alpha")
Sheet = list[list[object]]


def latest_definition(instrument: Instrument) -> InstrumentDef:
    """Band labels and order come from the newest published version."""
    version = (
        InstrumentVersion.objects.published()
        .filter(instrument=instrument)
        .order_by("-version")
        .first()
    )
    return version.as_definition()


def format_alpha(alpha: float | None) -> str:
    return "—" if alpha is None else f"{alpha:.3f}"


def band_sheet(tables: Sequence[BandTable]) -> Sheet:
    rows: Sheet = [[_("Scale"), _("Office"), _("Period"), _("Band"), _("Persons")]]
    for table in tables:
        for row in table.rows:
            for (_code, label), cell in zip(table.bands, row.cells, strict=True):
                rows.append([table.scale_label, row.office, row.period, label, cell])
    return rows


def alpha_sheet(alphas: Sequence[AlphaRow]) -> Sheet:
    rows: Sheet = [
        [_("Version"), _("Scale"), _("Items"), _("Complete responses"), _("Cronbach's alpha")]
    ]
    for a in alphas:
        rows.append([a.version, a.scale_label, a.k, a.n, format_alpha(a.alpha)])
    return rows


def csv_text(sheet: Sheet) -> str:
    return downloads.csv_text(sheet)


def workbook(sheets: dict[str, Sheet]) -> bytes:
    titles = {"bands": _("Bands"), "alpha": _("Reliability")}
    return downloads.xlsx_bytes({str(titles.get(key, key)): sheet for key, sheet in sheets.items()})
