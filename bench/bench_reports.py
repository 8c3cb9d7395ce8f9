"""Official participation reports (``participation.reports``) at scale.

1. 1,000 one-page office PDFs (12 persons each; summary, category table, two charts, persons
   with what is missing, footer with page x of y), as the bureau's "a PDF per office" task
   builds them: ``monthly_reports`` (every office's data in six queries) then
   ``monthly_pdfs`` in two forked processes (``report_tasks.PDF_WORKERS``); also in one
   process, and one office at a time as the single-office task does (``monthly_report``,
   five queries, then ``monthly_pdf``; 100 timed, scaled). Wall and CPU time (this process
   and its children) are both shown: on a shared machine the CPU time is the steadier figure.
   Naive: the same page with a per-person ORM loop (a query per person-month for the person)
   and every table cell a wrapped paragraph, timed on 100 offices and scaled to 1,000.
2. A 100,000-row Excel export (one bureau, 100 offices of 1,000 persons): ``monthly_report``
   + ``monthly_xlsx`` (openpyxl write-only). Naive: the same rows written by openpyxl's normal
   mode (the whole workbook in memory); and a per-row ORM loop (N + 1 queries) into that
   normal-mode workbook, timed on 10,000 rows and scaled to 100,000.
Peak memory is traced (tracemalloc) on a separate run of each, not while timing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import resource
import time
import tracemalloc

PAGE = re.compile(rb"/Type /Page\b(?!s)")
PERIOD = dt.date(2026, 10, 1)
PDF_OFFICES, PDF_PERSONS = 1000, 12
XLSX_OFFICES, XLSX_PERSONS = 100, 1000
NAIVE_PDF_OFFICES = 100
NAIVE_ORM_ROWS = 10_000


def _bureau(code: str, offices: int, persons: int):
    """A bureau with ``offices`` offices of ``persons`` persons each and their person-months
    for PERIOD (bulk-created as ``rollups.refresh_month`` would write them)."""
    from django.utils import timezone

    from participation.models import PersonMonth
    from participation.rollups import refresh_office_months
    from people.models import Office, OfficeKind, Person, User

    bureau = Office.objects.filter(code=code).first()
    if bureau is not None and PersonMonth.objects.filter(office__path__startswith=bureau.path):
        return bureau
    bureau = Office.add_root(name=f"基准司法局{code}", code=code, kind=OfficeKind.BUREAU)
    children = []
    for n in range(offices):
        children.append(bureau.add_child(name=f"第{n + 1}司法所", code=f"{code}-{n}"))
        bureau.refresh_from_db()
    start, end = dt.date(2026, 1, 1), dt.date(2027, 6, 30)
    statuses = ["met", "met", "met", "excused", "at_risk", "missed"]
    quota = {"key": "quota:2026-10", "kind": "quota", "title": "本月学习 8 小时"}
    lecture = {"key": "lecture:7", "kind": "lecture", "title": "《社区矫正法》要点讲座"}
    missing = [
        {**quota, "due": "2026-10-31", "minutes_short": 150},
        {**lecture, "due": "2026-10-20", "minutes_short": 0},
    ]
    now = timezone.now()
    for office in children:
        users = User.objects.bulk_create(
            [
                User(username=f"{office.code}-{i}", name=f"张{i}", password="!")  # noqa: S106
                for i in range(persons)
            ]
        )
        people = Person.objects.bulk_create(
            [
                Person(
                    user=user,
                    case_number=f"{office.code.upper()}-{i:05d}",
                    full_name=f"测试对象{i}",
                    office=office,
                    category=("strict", "normal", "lenient")[i % 3],
                    supervision_start=start,
                    supervision_end=end,
                )
                for i, user in enumerate(users)
            ]
        )
        rows = []
        for i, person in enumerate(people):
            status = statuses[i % len(statuses)]
            rows.append(
                PersonMonth(
                    person=person,
                    period=PERIOD,
                    office=office,
                    category=person.category,
                    status=status,
                    required=3,
                    met=3 if status == "met" else 1,
                    excused=2 if status == "excused" else 0,
                    missing=missing if status in ("at_risk", "missed") else [],
                    study_minutes=480 if status == "met" else 330,
                    quota_minutes=480,
                    computed_at=now,
                )
            )
        PersonMonth.objects.bulk_create(rows, batch_size=1000)
    # In slices: it deletes stale rows with one OR per office-category, which SQLite caps.
    for first in range(0, len(children), 50):
        refresh_office_months(PERIOD, [o.pk for o in children[first : first + 50]])
    return bureau


def _admin():
    from people.models import User

    user = User.objects.filter(username="bench-reports").first()
    return user or User.objects.create(
        username="bench-reports",
        name="基准管理员",
        is_superuser=True,
        password="!",  # noqa: S106
    )


def _footer(user):
    from django.utils import timezone

    from lib.pdf import Footer

    return Footer(user.name, timezone.now())


def _office_pdfs(user, offices) -> list[bytes]:
    from participation import report_pdf, reports

    footer = _footer(user)
    return [
        report_pdf.monthly_pdf(reports.monthly_report(user, office, PERIOD), footer)
        for office in offices
    ]


def _batch_pdfs(user, bureau, workers: int) -> list[bytes]:
    from participation import report_pdf, reports

    batch = reports.monthly_reports(user, bureau, PERIOD)
    return [pdf for _, pdf in report_pdf.monthly_pdfs(batch, _footer(user), workers)]


def _naive_office_pdf(user, office) -> bytes:
    """The same content, the straightforward way: a query per person, paragraphs everywhere."""
    from lib.pdf import bar_chart, line_chart, pdf_document, table
    from participation import report_pdf, reports
    from participation.models import PersonMonth
    from people.models import Person

    report = reports.monthly_report(user, office, PERIOD)
    rows = [["案号", "姓名", "类别", "状态", "学习/应学", "缺少"]]
    for person in Person.objects.filter(office=office).order_by("case_number"):
        month = PersonMonth.objects.get(person=person, period=PERIOD)
        rows.append(
            [
                person.case_number,
                person.full_name,
                person.get_category_display(),
                month.get_status_display(),
                f"{month.study_minutes / 60:.1f} / {month.quota_minutes / 60:.1f}",
                reports.missing_text(month.missing),
            ]
        )
    shown = report.categories[report.categories["persons"] > 0]
    blocks = [
        ("text", report_pdf._summary(report)),
        ("table", report_pdf._figures_rows(report.categories, "label", "类别")),
        ("flowable", bar_chart(list(shown["label"]), list(shown["rate"]))),
        ("flowable", line_chart([f"{m:%m}" for m in report.trend["month"]], {"": [50] * 6})),
        ("flowable", table(rows, wrap=True)),
    ]
    return pdf_document(reports.report_title(report), blocks, footer=_footer(user))


def _xlsx(user, bureau) -> bytes:
    from participation import report_xlsx, reports

    return report_xlsx.monthly_xlsx(reports.monthly_report(user, bureau, PERIOD), _footer(user))


def _naive_xlsx_normal_mode(user, bureau) -> bytes:
    """The same sheets through openpyxl's normal mode (every cell an object in memory)."""
    import io

    from openpyxl import Workbook

    from participation import report_xlsx, reports

    report = reports.monthly_report(user, bureau, PERIOD)
    frame = reports.person_frame(report)
    book = Workbook()
    book.remove(book.active)
    book.create_sheet("概要")
    columns = ["case_number", "name", "category", "status_label", "required", "met", "excused",
               "study_hours", "quota_hours", "missing_text"]  # fmt: skip
    for name, rows in frame.groupby("office", sort=False):
        sheet = book.create_sheet(report_xlsx.sheet_titles([name])[0])
        sheet.append(columns)
        for row in report_xlsx.safe_frame(rows[columns]).itertuples(index=False, name=None):
            sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _naive_orm_rows(bureau, limit: int) -> int:
    """Per-row ORM: person-months as model instances, the person and office fetched per row,
    into a normal-mode workbook."""
    import io

    from openpyxl import Workbook

    from lib.downloads import spreadsheet_safe
    from participation import reports
    from participation.models import PersonMonth

    book = Workbook()
    sheets = {}
    months = PersonMonth.objects.filter(period=PERIOD, office__path__startswith=bureau.path)
    count = 0
    for month in months.order_by("pk")[:limit]:
        person, office = month.person, month.office  # two queries per row
        sheet = sheets.get(office.pk) or sheets.setdefault(
            office.pk, book.create_sheet(office.name[:31])
        )
        sheet.append(
            [
                spreadsheet_safe(person.case_number),
                spreadsheet_safe(person.full_name),
                month.get_category_display(),
                month.get_status_display(),
                month.required,
                month.met,
                month.excused,
                round(month.study_minutes / 60, 1),
                round(month.quota_minutes / 60, 1),
                reports.missing_text(month.missing),
            ]
        )
        count += 1
    book.save(io.BytesIO())
    return count


def _peak(fn) -> float:
    """Peak traced memory of ``fn()`` in MiB."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _timed(fn) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def _cpu() -> float:
    """CPU seconds (user + system) of this process and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed_cpu(fn, repeat: int = 2) -> tuple[float, float]:
    """Wall and CPU seconds of the fastest (wall) of ``repeat`` runs."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), _cpu()
        fn()
        best = min(best, (time.perf_counter() - wall, _cpu() - cpu))
    return best


def _load() -> str:
    return "load average " + " ".join(f"{n:.1f}" for n in os.getloadavg())


def run() -> list[dict]:
    from django.utils import translation

    from people.models import Office

    rows = []
    with translation.override("zh-hans"):
        began = time.perf_counter()
        pdf_bureau = _bureau("bench-rpt-pdf", PDF_OFFICES, PDF_PERSONS)
        xlsx_bureau = _bureau("bench-rpt-xlsx", XLSX_OFFICES, XLSX_PERSONS)
        print(f"  data ready in {time.perf_counter() - began:.0f} s")
        user = _admin()
        offices = list(Office.objects.filter(path__startswith=pdf_bureau.path, depth=2))
        assert len(offices) == PDF_OFFICES

        pdfs = _batch_pdfs(user, pdf_bureau, 2)
        pages = {len(PAGE.findall(pdf)) for pdf in pdfs}
        assert len(pdfs) == PDF_OFFICES and pages == {1}, pages
        load = _load()
        ours, ours_cpu = _timed_cpu(lambda: _batch_pdfs(user, pdf_bureau, 2))
        one, one_cpu = _timed_cpu(lambda: _batch_pdfs(user, pdf_bureau, 1), repeat=1)
        alone, alone_cpu = _timed_cpu(lambda: _office_pdfs(user, offices[:100]), repeat=1)
        alone, alone_cpu = alone * PDF_OFFICES / 100, alone_cpu * PDF_OFFICES / 100
        naive = _timed(lambda: [_naive_office_pdf(user, o) for o in offices[:NAIVE_PDF_OFFICES]])
        naive *= PDF_OFFICES / NAIVE_PDF_OFFICES
        rows.append(
            {
                "name": "1,000 one-page office PDFs (batch, 2 processes)",
                "ours": ours,
                "naive": naive,
                "note": f"CPU {ours_cpu:.1f} s; {load}; peak "
                f"{_peak(lambda: _office_pdfs(user, offices[:50])):.1f} MiB per 50 "
                f"(naive: per-person ORM + paragraph cells, 100 timed, scaled)",
            }
        )
        rows.append(
            {
                "name": "1,000 office PDFs (batch, 1 process)",
                "ours": one,
                "naive": naive,
                "note": f"CPU {one_cpu:.1f} s",
            }
        )
        rows.append(
            {
                "name": "1,000 office PDFs (one office at a time)",
                "ours": alone,
                "naive": naive,
                "note": f"CPU {alone_cpu:.1f} s (100 timed, scaled)",
            }
        )

        content = _xlsx(user, xlsx_bureau)
        assert len(content) > 1_000_000
        load = _load()
        ours, ours_cpu = _timed_cpu(lambda: _xlsx(user, xlsx_bureau))
        normal = _timed(lambda: _naive_xlsx_normal_mode(user, xlsx_bureau))
        ours_peak = _peak(lambda: _xlsx(user, xlsx_bureau))
        normal_peak = _peak(lambda: _naive_xlsx_normal_mode(user, xlsx_bureau))
        rows.append(
            {
                "name": "100,000-row Excel, write-only vs normal mode",
                "ours": ours,
                "naive": normal,
                "note": f"CPU {ours_cpu:.1f} s; {load}; peak {ours_peak:.0f} MiB vs "
                f"{normal_peak:.0f} MiB",
            }
        )
        orm = _timed(lambda: _naive_orm_rows(xlsx_bureau, NAIVE_ORM_ROWS))
        rows.append(
            {
                "name": "100,000-row Excel vs per-row ORM (normal mode)",
                "ours": ours,
                "naive": orm * (XLSX_OFFICES * XLSX_PERSONS) / NAIVE_ORM_ROWS,
                "note": "naive: 10,000 rows timed, scaled",
            }
        )
    return rows
