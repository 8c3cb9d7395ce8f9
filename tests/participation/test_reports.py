"""Official participation reports (participation/reports.py): the monthly report of an office or
of the bureau as PDF and Excel, and a person's history as PDF, from the rollups."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pandas as pd
import pytest
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from lib.months import month_start
from lib.pdf import Footer
from participation import report_pdf, report_xlsx, reports, rollups
from participation.models import MonthStatus, ParticipationRecord, ParticipationSource
from tests.factories import make_person
from tests.pdfs import official_pdf_text

pytestmark = pytest.mark.django_db

FOOTER = Footer("王警官", dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC))


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def last_month() -> dt.date:
    return month_start(month_start(timezone.localdate()) - dt.timedelta(days=1))


def study(person, period, minutes=600, source=ParticipationSource.LESSON, key="lesson:1"):
    return ParticipationRecord.objects.create(
        person=person,
        period=period,
        source=source,
        requirement_key=key,
        requirement="第一课",
        minutes=minutes,
        status="completed",
    )


@pytest.fixture
def period(org) -> dt.date:
    """Last month, with both persons under supervision throughout, whatever the test date;
    ``person`` (east) studied enough, ``other_person`` (west) did nothing: the rollups
    are computed."""
    today = timezone.localdate()
    for person in (org.person, org.other_person):
        person.supervision_start = today - dt.timedelta(days=120)
        person.supervision_end = today + dt.timedelta(days=120)
        person.save(update_fields=["supervision_start", "supervision_end"])
    period = last_month()
    study(org.person, period)
    rollups.refresh_month(period)
    return period


def test_the_bureau_report_counts_every_office(org, period):
    report = reports.monthly_report(org.administrator, org.bureau, period)
    assert report.is_bureau
    assert list(report.offices["office"]) == ["东司法所", "西司法所"]
    assert report.total == {"persons": 2, "met": 1, "excused": 0, "at_risk": 0, "missed": 1}
    assert set(report.persons["status"]) == {MonthStatus.MET, MonthStatus.MISSED}
    assert list(report.trend["month"])[-1] == period


def test_an_office_report_holds_only_that_office(org, period):
    report = reports.monthly_report(org.officer, org.east, period)
    assert not report.is_bureau
    assert list(report.persons["case_number"]) == [org.person.case_number]
    with pytest.raises(reports.ReportError):
        reports.monthly_report(org.officer, org.west, period)
    with pytest.raises(reports.ReportError):
        reports.monthly_report(org.counselor, org.east, period)


def test_the_report_reads_a_fixed_number_of_queries(org, period, django_assert_max_num_queries):
    for n in range(4):
        office = org.bureau.add_child(name=f"第{n}司法所", code=f"office-{n}")
        org.bureau.refresh_from_db()
        for _ in range(3):
            make_person(office)
    rollups.refresh_month(period)
    with django_assert_max_num_queries(10):
        report = reports.monthly_report(org.administrator, org.bureau, period)
    assert len(report.offices) == 6


def test_the_office_pdf_lists_persons_with_status_and_what_is_missing(org, period, english):
    report = reports.monthly_report(org.officer, org.east, period)
    text = pdf_text(report_pdf.monthly_pdf(report, FOOTER))
    assert "东司法所" in text
    assert org.person.case_number in text and org.person.full_name in text
    assert org.other_person.case_number not in text
    assert "Met" in text
    assert "page 1 / 1" in text and "by 王警官" in text


def test_the_bureau_pdf_compares_offices_and_lists_who_is_not_complete(org, period, english):
    report = reports.monthly_report(org.administrator, org.bureau, period)
    text = pdf_text(report_pdf.monthly_pdf(report, FOOTER))
    assert "西司法所" in text and "东司法所" in text
    assert org.other_person.case_number in text  # missed: listed, with what is missing
    assert "0.0 / 8.0" in text and "(8.0 h" in text
    assert org.person.case_number not in text  # met: only in the Excel file
    assert "50.0%" in text


def test_the_excel_file_has_a_summary_and_one_sheet_per_office(org, period, english):
    report = reports.monthly_report(org.administrator, org.bureau, period)
    seen = []
    book = load_workbook(
        io.BytesIO(report_xlsx.monthly_xlsx(report, FOOTER, lambda d, t: seen.append((d, t))))
    )
    assert book.sheetnames == ["Summary", "Video roll-calls", "东司法所", "西司法所"]
    east = list(book["东司法所"].values)
    assert east[0][0] == "Case number"
    assert [row[0] for row in east[1:]] == [org.person.case_number]
    west = list(book["西司法所"].values)
    assert len(west) == 2 and west[1][3] == "Missed"
    summary = list(book["Summary"].values)
    assert ("东司法所", 1, 1, 0, 0, 0, 100.0) in summary
    assert seen and seen[-1] == (3, 3)


def test_the_excel_file_neutralises_formulas(org, period, english):
    org.person.full_name = '=HYPERLINK("http://evil","x")'
    org.person.case_number = "+1-2"
    org.person.save(update_fields=["full_name", "case_number"])
    report = reports.monthly_report(org.officer, org.east, period)
    book = load_workbook(io.BytesIO(report_xlsx.monthly_xlsx(report, FOOTER)))
    row = list(book["东司法所"].values)[1]
    assert row[0] == "'+1-2"
    assert row[1] == '\'=HYPERLINK("http://evil","x")'
    assert book["东司法所"]["B2"].data_type == "s"


def test_sheet_titles_are_valid_and_unique():
    titles = report_xlsx.sheet_titles(["a/b", "东司法所" * 10, "东司法所" * 10, ""])
    assert titles[0] == "a_b"
    assert all(len(t) <= 31 for t in titles)
    assert len(set(titles)) == 4


def test_a_person_history_shows_every_month_and_every_source(org, period, english):
    study(org.person, period, 30, ParticipationSource.LECTURE, "lecture:9")
    ParticipationRecord.objects.create(
        person=org.person,
        period=period,
        source=ParticipationSource.EXCUSED,
        requirement_key="lecture:10",
        requirement="法治讲座",
        status="excused",
    )
    text = pdf_text(report_pdf.person_history_pdf(org.person, FOOTER))
    assert org.person.full_name in text and org.person.case_number in text
    for month in report_pdf.history_months(org.person, timezone.localdate()):
        assert reports.month_label(month) in text
    for word in ("Lesson", "Lecture", "Excused", "第一课", "法治讲座", "Study for"):
        assert word in text
    assert "page 1 /" in text


def test_a_month_that_has_not_begun_is_refused():
    future = month_start(timezone.localdate()) + dt.timedelta(days=40)
    with pytest.raises(reports.ReportError):
        reports.check_period(future)
    assert reports.check_period(timezone.localdate()) == month_start(timezone.localdate())


def test_missing_text_reads_rollup_rows(english):
    assert reports.missing_text([]) == ""
    text = reports.missing_text(
        [
            {"title": "Study", "minutes_short": 90, "due": "2026-10-31"},
            {"title": "讲座", "minutes_short": 0, "due": "2026-10-12"},
            "old style",
        ]
    )
    assert text == "Study (1.5 h short)；讲座 (due 10-12)；old style"


def _many_offices(org, period, count=5, persons=3):
    """``count`` more offices under the bureau, one with an office below it."""
    offices = []
    for n in range(count):
        office = org.bureau.add_child(name=f"第{n}司法所", code=f"office-{n}")
        org.bureau.refresh_from_db()
        offices.append(office)
        for _ in range(persons):
            make_person(office)
    below = offices[0].add_child(name="第0司法所分所", code="office-0-a")
    make_person(below)
    rollups.refresh_month(period)
    return offices


def test_the_batch_gives_every_office_the_report_it_gets_alone(
    org, period, django_assert_max_num_queries
):
    _many_offices(org, period)
    # 6 of its own, 3 for the video roll-calls' figures (the viewer's scope, drawn, rung).
    with django_assert_max_num_queries(9):
        batch = reports.monthly_reports(org.administrator, org.bureau, period)
    assert [r.office.name for r in batch] == [
        "东司法所",
        "西司法所",
        "第0司法所",
        "第0司法所分所",
        *(f"第{n}司法所" for n in range(1, 5)),
    ]  # tree order
    for report in batch:
        alone = reports.monthly_report(org.administrator, report.office, period)
        for name in ("offices", "categories", "trend", "persons"):
            pd.testing.assert_frame_equal(getattr(report, name), getattr(alone, name))
        assert report.computed_at == alone.computed_at and report.period == alone.period
    # An office with one below it counts both, as alone.
    assert batch[2].total["persons"] == 4 and len(batch[2].persons) == 4
    with pytest.raises(reports.ReportError):
        reports.monthly_reports(org.officer, org.bureau, period)


def test_the_office_pdfs_of_a_batch_read_the_same_in_one_process_or_two(org, period, english):
    _many_offices(org, period)
    batch = reports.monthly_reports(org.administrator, org.bureau, period)
    seen = []
    one = list(report_pdf.monthly_pdfs(batch, FOOTER, progress=lambda d, t: seen.append((d, t))))
    two = list(report_pdf.monthly_pdfs(batch, FOOTER, workers=2))
    assert seen[-1] == (len(batch), len(batch))
    assert [r.office for r, _ in one] == [r.office for r, _ in two] == [r.office for r in batch]
    for (report, first), (_, second) in zip(one, two, strict=True):
        text = pdf_text(first)
        assert text == pdf_text(second)
        assert reports.report_title(report) in text and "page 1 / " in text
        for case_number in report.persons["case_number"]:
            assert case_number in text
    archive = zipfile.ZipFile(io.BytesIO(report_pdf.monthly_pdf_zip(batch, FOOTER)))
    assert len(archive.namelist()) == len(batch)


def test_a_long_bureau_pdf_lists_everyone_not_complete_over_several_pages(org, period, english):
    for office in _many_offices(org, period, count=3, persons=40):
        office.refresh_from_db()
    report = reports.monthly_report(org.administrator, org.bureau, period)
    content = report_pdf.monthly_pdf(report, FOOTER)
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]
    assert len(pages) > 1
    incomplete = report.persons[report.persons["status"].isin(reports.INCOMPLETE)]
    text = "\n".join(pages)
    assert len(incomplete) > 100
    for case_number in incomplete["case_number"]:
        assert text.count(case_number) == 1
    # The table's header row is repeated on every page it runs over.
    assert sum("Case number" in page for page in pages) == len(pages) - (
        0 if "Case number" in pages[0] else 1
    )


def test_the_excel_file_reads_the_same_as_with_openpyxls_own_writer(
    org, period, english, monkeypatch
):
    _many_offices(org, period)
    org.person.full_name = " 前后有空格 & <标记> "
    org.person.save(update_fields=["full_name"])
    rollups.refresh_month(period)
    report = reports.monthly_report(org.administrator, org.bureau, period)
    fast = load_workbook(io.BytesIO(report_xlsx.monthly_xlsx(report, FOOTER)))
    monkeypatch.setattr(report_xlsx, "fast_rows", lambda sheet: sheet)
    plain = load_workbook(io.BytesIO(report_xlsx.monthly_xlsx(report, FOOTER)))
    assert fast.sheetnames == plain.sheetnames and len(fast.sheetnames) == 10
    for name in fast.sheetnames:
        assert list(fast[name].values) == list(plain[name].values)
    assert sum(fast[name].max_row - 1 for name in fast.sheetnames[2:]) == len(report.persons)
    assert fast["东司法所"]["B2"].value == " 前后有空格 & <标记> "


def test_an_office_without_persons_still_gets_its_files(org, period, english):
    empty = org.bureau.add_child(name="空司法所", code="office-empty")
    report = reports.monthly_report(org.administrator, empty, period)
    assert report.persons.empty and report.categories["rate"].isna().all()
    book = load_workbook(io.BytesIO(report_xlsx.monthly_xlsx(report, FOOTER)))
    assert book.sheetnames == ["Summary", "Video roll-calls"]
    assert ("空司法所", 0, 0, 0, 0, 0, None) in list(book["Summary"].values)
    assert "Nobody to list." in pdf_text(report_pdf.monthly_pdf(report, FOOTER))


def test_the_history_pdf_names_what_was_done_and_shows_words_not_codes(org, period):
    lesson = study(org.person, period, 30, key="lesson:999999")
    lesson.requirement = ""  # stored without a title: the key's title is looked up
    lesson.save(update_fields=["requirement"])
    ParticipationRecord.objects.create(
        person=org.person,
        period=period,
        source=ParticipationSource.EXCUSED,
        requirement_key="lecture:10",
        requirement="法治讲座",
        status="excused",
    )
    content = report_pdf.person_history_pdf(org.person, FOOTER)
    # Every font embedded, Chinese throughout, no "lesson:999999" (official_pdf_text).
    text = official_pdf_text(content, data=[org.person.case_number])
    assert "参课记录" in text and "逐月情况" in text
    assert org.person.full_name in text and "法治讲座" in text and "第一课" in text
    assert "课时（已删除）" in text  # the lesson the blank-titled row named is gone
    assert "已请假" in text and "已完成" in text  # statuses in words


@pytest.mark.parametrize("scope", ["office", "bureau"])
def test_the_monthly_pdf_embeds_its_font_and_reads_in_chinese(org, period, scope):
    user, office = (org.officer, org.east) if scope == "office" else (org.administrator, org.bureau)
    report = reports.monthly_report(user, office, period)
    content = report_pdf.monthly_pdf(report, FOOTER)
    cases = [org.person.case_number, org.other_person.case_number]
    text = official_pdf_text(content, data=cases)
    assert reports.report_title(report) in text and "生成人 王警官" in text
    assert "按管理类别" in text and "参课情况月报" in text
