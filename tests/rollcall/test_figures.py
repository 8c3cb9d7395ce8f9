"""Per office and month figures of video roll-calls (rollcall/figures.py), on the
participation dashboard and in the monthly report (participation.office_figures)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from live.jitsi import participant_id
from participation import report_pdf, report_xlsx, reports, rollups
from participation.office_figures import office_figures
from rollcall.figures import CountRow, MonthFigures, assemble, office_month_counts
from rollcall.models import CallKind, RollCall, RollCallTarget, SpotCheck, TargetState
from tests.factories import login_staff, make_person
from tests.participation.test_reports import FOOTER, last_month, pdf_text


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time(hour, minute)), timezone.get_default_timezone()
    )


def _target(org, person, at, result="", state=TargetState.CONFIRMED, kind=CallKind.SINGLE):
    call = RollCall.objects.create(kind=kind, started_by=org.officer, office=person.office)
    return RollCallTarget.objects.create(
        call=call,
        person=person,
        state=state,
        participant_id=participant_id(person.user_id or 0),
        rung_at=at,
        deadline=at + dt.timedelta(minutes=5),
        closes_at=at + dt.timedelta(minutes=15),
        result=result,
        policy_version=1,
    )


@pytest.fixture
def period(org) -> dt.date:
    """Last month: east's person had every kind of outcome, west's person one call in time."""
    period = last_month()
    mid = period.replace(day=15)
    person = org.person
    answered = _target(org, person, _local(mid, 10), "in_time", kind=CallKind.SPOT)
    # A drawn check that rang: counted once, as drawn.
    SpotCheck.objects.create(
        person=person,
        period=f"{period:%Y-%m}",
        seq=1,
        at=_local(mid, 10),
        policy_version=1,
        target=answered,
        started_at=_local(mid, 10),
    )
    # A drawn check not rung yet: planned, not done.
    SpotCheck.objects.create(
        person=person, period=f"{period:%Y-%m}", seq=2, at=_local(mid, 15), policy_version=1
    )
    _target(org, person, _local(mid.replace(day=16), 9), "late", kind=CallKind.GROUP)
    _target(org, person, _local(mid.replace(day=17), 9), "missed", state=TargetState.MISSED)
    _target(org, person, _local(mid.replace(day=18), 9), "excused", state=TargetState.EXCUSED)
    _target(org, person, _local(mid.replace(day=19), 9), "not_possible", TargetState.NOT_POSSIBLE)
    # 00:30 on the 1st in Shanghai is the previous day in UTC: still this month (rule 3).
    _target(org, person, _local(period, 0, 30), state=TargetState.RINGING)
    _target(org, org.other_person, _local(mid, 11), "in_time")
    return period


EAST = MonthFigures(planned=7, done=2, in_time=1, missed=1, excused=1, not_possible=1)
WEST = MonthFigures(planned=1, done=1, in_time=1)


def _before(period: dt.date) -> dt.date:
    return rollups.previous_month(period)


def test_figures_per_office_and_month_from_the_database(org, period):
    months = [_before(period), period]
    counts = office_month_counts(org.administrator, [org.bureau, org.east, org.west], months)
    assert counts[org.east.pk][period] == EAST
    assert counts[org.west.pk][period] == WEST
    bureau = MonthFigures()
    bureau.add(EAST)
    bureau.add(WEST)
    assert counts[org.bureau.pk][period] == bureau
    for office in (org.bureau, org.east, org.west):
        assert counts[office.pk][_before(period)] == MonthFigures()


def test_an_officer_of_another_office_sees_nothing_of_this_office(org, period):
    months = [period]
    assert office_month_counts(org.other_officer, [org.east], months)[org.east.pk] == {
        period: MonthFigures()
    }
    # Their bureau-wide view holds only their own office's persons.
    assert office_month_counts(org.other_officer, [org.bureau], months)[org.bureau.pk] == {
        period: WEST
    }
    assert office_month_counts(org.outsider, [org.bureau], months)[org.bureau.pk] == {
        period: MonthFigures()
    }


def test_the_number_of_queries_does_not_grow_with_persons(org, period, django_assert_num_queries):
    for n in range(6):
        person = make_person(org.east if n % 2 else org.west)
        _target(org, person, _local(period.replace(day=3), 9 + n), "in_time")
    offices = [org.bureau, org.east, org.west]
    # The viewer's scope (their office), the drawn checks, the calls rung.
    with django_assert_num_queries(3):
        counts = office_month_counts(org.administrator, offices, [_before(period), period])
    assert counts[org.bureau.pk][period].planned == EAST.planned + WEST.planned + 6


def test_assemble_sums_subtrees_and_fills_empty_months():
    class Office:
        def __init__(self, pk, path):
            self.pk, self.path = pk, path

    top, child, other = Office(1, "0001"), Office(2, "00010001"), Office(3, "0002")
    jan, feb, mar = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)
    rows = [
        CountRow("00010001", feb, MonthFigures(planned=2, done=1, in_time=1)),
        CountRow("0001", feb, MonthFigures(planned=1, missed=1)),
        CountRow("00010001", mar, MonthFigures(planned=9)),  # not asked for
    ]
    out = assemble(rows, [top, child, other], [jan, feb])
    assert out[1] == {
        jan: MonthFigures(),
        feb: MonthFigures(planned=3, done=1, in_time=1, missed=1),
    }
    assert out[2][feb] == MonthFigures(planned=2, done=1, in_time=1)
    assert out[3] == {jan: MonthFigures(), feb: MonthFigures()}


def test_the_registry_gives_participation_the_rollcall_table(org, period):
    with translation.override("zh-hans"):
        tables = office_figures(org.officer, [org.east], [period])[org.east.pk]
    [table] = tables
    assert table.key == "rollcall" and table.title == "视频点验"
    assert table.rows == [[f"{period:%Y-%m}", 7, 2, 1, 1, 1, 1]]
    assert not table.is_empty


def _dashboard(client, user, office, month):
    login_staff(client, user)
    return client.get(
        reverse("learning_participation_office", args=[office.pk]), {"month": f"{month:%Y-%m}"}
    )


def test_the_office_dashboard_shows_the_figures_in_chinese(client, org, period):
    html = _dashboard(client, org.officer, org.east, period).content.decode()
    assert 'data-testid="office-figures-rollcall"' in html
    for text in ("视频点验", "计划点验", "已完成", "按时应答", "未应答", "无法进行"):
        assert text in html
    row = f'<th scope="row">{period:%Y-%m}</th><td>7</td><td>2</td><td>1</td><td>1</td>'
    assert row in html


def test_months_without_roll_calls_say_so_in_a_sentence(client, org):
    html = _dashboard(client, org.officer, org.east, last_month()).content.decode()
    assert "这几个月没有安排或进行视频点验。" in html
    assert '<th scope="col">计划点验</th>' not in html


def test_the_overview_shows_the_viewer_s_own_office_only(client, org, period):
    login_staff(client, org.other_officer)
    html = client.get(reverse("learning_participation"), {"month": f"{period:%Y-%m}"}).content
    html = html.decode()
    assert f"视频点验：{org.west.name}" in html
    assert f'<th scope="row">{period:%Y-%m}</th><td>1</td><td>1</td><td>1</td><td>0</td>' in html
    assert org.east.name not in html


def test_the_office_report_has_the_figures_in_pdf_and_excel(org, period):
    with translation.override("zh-hans"):
        report = reports.monthly_report(org.administrator, org.east, period)
        [table] = report.extra_figures
        assert table.rows[-1] == [f"{period:%Y-%m}", 7, 2, 1, 1, 1, 1]
        assert len(table.rows) == reports.TREND_MONTHS
        text = pdf_text(report_pdf.monthly_pdf(report, FOOTER))
        book = load_workbook(io.BytesIO(report_xlsx.monthly_xlsx(report, FOOTER)))
    assert "视频点验" in text and "计划点验" in text
    assert book.sheetnames[:2] == ["汇总", "视频点验"]
    sheet = list(book["视频点验"].iter_rows(values_only=True))
    assert sheet[0][:2] == ("视频点验", org.east.name)
    assert ("月份", "计划点验", "已完成", "按时应答", "未应答", "已请假", "无法进行") in sheet
    assert (f"{period:%Y-%m}", 7, 2, 1, 1, 1, 1) in sheet


def test_an_empty_report_says_so(org):
    with translation.override("zh-hans"):
        report = reports.monthly_report(org.administrator, org.east, last_month())
        text = pdf_text(report_pdf.monthly_pdf(report, FOOTER))
    assert "这几个月没有安排或进行视频点验。" in text.replace("\n", "")


def test_the_bureau_batch_gives_each_office_its_own_figures(org, period):
    today = timezone.localdate()
    for person in (org.person, org.other_person):
        person.supervision_start = today - dt.timedelta(days=120)
        person.supervision_end = today + dt.timedelta(days=120)
        person.save(update_fields=["supervision_start", "supervision_end"])
    rollups.refresh_month(period)
    batch = {r.office.pk: r for r in reports.monthly_reports(org.administrator, org.bureau, period)}
    assert batch[org.east.pk].extra_figures[0].rows[-1][1:] == [7, 2, 1, 1, 1, 1]
    assert batch[org.west.pk].extra_figures[0].rows[-1][1:] == [1, 1, 1, 0, 0, 0]
