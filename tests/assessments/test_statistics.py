"""Population statistics: band distribution with small-cell suppression, Cronbach's alpha,
exports, and who may see them (assessments/statistics.py)."""

from __future__ import annotations

import datetime as dt
import io
import math

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from openpyxl import load_workbook

from assessments.models import Instrument
from assessments.statistics import (
    SUPPRESSED,
    StatisticsFilter,
    alpha_rows,
    band_tables,
    cronbach_alpha,
    suppress,
)
from audit.models import AccessEvent, Action
from people.models import Office, OfficeKind
from people.roles import Role
from tests.assessments.helpers import load, stored_result
from tests.factories import login_staff, make_person, make_user

MINIMAL = [0] * 9  # PHQ-9 total 0
MILD = [1] * 5 + [0] * 4  # total 5
MODERATE = [2] * 5 + [0] * 4  # total 10


def at(year, month, day=15, hour=10):
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)


# --- Cronbach's alpha --------------------------------------------------------------------------


def test_alpha_matches_a_hand_computed_example():
    # Item variances 5/3, 4.75/3, 2.75/3 (sum 12.5/3); totals 6, 8, 10, 14 have variance 35/3:
    # alpha = 3/2 · (1 − 12.5/35) = 27/28.
    items = pd.DataFrame([[1, 2, 3], [2, 3, 3], [3, 3, 4], [4, 5, 5]])
    result = cronbach_alpha(items)
    assert result.alpha == pytest.approx(27 / 28)
    assert (result.n, result.k) == (4, 3)


def test_identical_items_have_alpha_one():
    column = [0, 1, 3, 2, 2, 1]
    assert cronbach_alpha(pd.DataFrame(dict.fromkeys(range(5), column))).alpha == pytest.approx(1)


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame([[1, 2, 3]]),  # one respondent
        pd.DataFrame([[1], [2], [3]]),  # one item
        pd.DataFrame([[2, 2], [2, 2], [2, 2]]),  # no variance at all
        pd.DataFrame([[0, 1], [1, 0], [0, 1]]),  # total score does not vary
        pd.DataFrame(columns=[0, 1, 2]),  # nobody
    ],
)
def test_alpha_is_undefined_without_two_respondents_two_items_or_variance(frame):
    assert cronbach_alpha(frame).alpha is None


def test_incomplete_rows_are_left_out_and_not_counted():
    items = pd.DataFrame([[1, 2, 3], [2, 3, 3], [np.nan, 3, 4], [3, 3, 4], [4, 5, 5]])
    result = cronbach_alpha(items)
    assert result.n == 4
    assert result.alpha == pytest.approx(27 / 28)


@settings(max_examples=200, deadline=None)
@given(
    arrays(np.int8, st.tuples(st.integers(2, 30), st.integers(2, 8)), elements=st.integers(0, 4))
)
def test_alpha_is_never_above_one(matrix):
    result = cronbach_alpha(pd.DataFrame(matrix))
    if result.alpha is not None:
        assert math.isfinite(result.alpha)
        assert result.alpha <= 1 + 1e-9


@pytest.mark.parametrize(("count", "shown"), [(0, "<5"), (1, "<5"), (4, "<5"), (5, 5), (12, 12)])
def test_small_counts_are_suppressed(count, shown):
    assert suppress(count) == shown


# --- Band distribution -------------------------------------------------------------------------


def persons(org, office, n):
    return [make_person(office, counselors=(org.counselor,)) for _ in range(n)]


def tables(user, **kwargs):
    load("phq9")
    flt = StatisticsFilter(Instrument.objects.get(slug="phq9"), **kwargs)
    from assessments.exports import latest_definition

    return band_tables(user, flt, latest_definition(flt.instrument))


def cells(table) -> dict:
    return {
        (row.office, row.period): dict(zip([c for c, _ in table.bands], row.cells, strict=True))
        for row in table.rows
    }


@pytest.mark.django_db
def test_bands_per_office_and_month_with_small_cells_suppressed(org):
    for person in persons(org, org.east, 6):
        stored_result(person, MINIMAL, at(2026, 3, 10))
    for person in persons(org, org.east, 2):
        stored_result(person, MILD, at(2026, 3, 11))
    for person in persons(org, org.west, 3):
        stored_result(person, MODERATE, at(2026, 3, 12))
    stored_result(org.person, MINIMAL, at(2026, 4, 2))

    [table] = tables(org.administrator)
    assert [code for code, _ in table.bands] == [
        "minimal",
        "mild",
        "moderate",
        "moderately_severe",
        "severe",
    ]
    got = cells(table)
    assert got[("东司法所", "2026-03")] == {
        "minimal": 6,
        "mild": SUPPRESSED,
        "moderate": SUPPRESSED,
        "moderately_severe": SUPPRESSED,
        "severe": SUPPRESSED,
    }
    assert set(got[("西司法所", "2026-03")].values()) == {SUPPRESSED}
    assert set(got[("东司法所", "2026-04")].values()) == {SUPPRESSED}


@pytest.mark.django_db
def test_a_person_counts_once_per_period_with_the_latest_result(org):
    people = persons(org, org.east, 5)
    for person in people:
        stored_result(person, MILD, at(2026, 3, 1))
        stored_result(person, MINIMAL, at(2026, 3, 20))  # latest in March
    [table] = tables(org.administrator)
    got = cells(table)[("东司法所", "2026-03")]
    assert got["minimal"] == 5 and got["mild"] == SUPPRESSED


@pytest.mark.django_db
def test_quarters_group_months_and_the_date_filter_applies(org):
    people = persons(org, org.east, 5)
    for i, person in enumerate(people):
        stored_result(person, MINIMAL, at(2026, 1 + i % 3, 5))  # Jan–Mar: Q1
    stored_result(people[0], MODERATE, at(2026, 4, 5))
    [table] = tables(org.administrator, period="quarter")
    got = cells(table)
    assert got[("东司法所", "2026 Q1")]["minimal"] == 5
    assert ("东司法所", "2026 Q2") in got
    [table] = tables(org.administrator, period="quarter", until=dt.date(2026, 3, 31))
    assert list(cells(table)) == [("东司法所", "2026 Q1")]
    [table] = tables(org.administrator, since=dt.date(2026, 2, 1), until=dt.date(2026, 2, 28))
    assert [row.period for row in table.rows] == ["2026-02"]


@pytest.mark.django_db
def test_periods_follow_the_local_calendar(org):
    # 31 March 18:00 UTC is 1 April 02:00 in Shanghai: an April result.
    for person in persons(org, org.east, 5):
        stored_result(person, MINIMAL, dt.datetime(2026, 3, 31, 18, tzinfo=dt.UTC))
    [table] = tables(org.administrator)
    assert [row.period for row in table.rows] == ["2026-04"]


@pytest.mark.django_db
def test_an_administrator_sees_only_their_own_bureau(org):
    for person in persons(org, org.east, 5):
        stored_result(person, MINIMAL, at(2026, 3))
    elsewhere = Office.add_root(name="别区司法局", code="elsewhere", kind=OfficeKind.BUREAU)
    other_admin = make_user("other_admin", Role.ADMINISTRATOR, office=elsewhere)
    [table] = tables(other_admin)
    assert table.rows == []


# --- Reliability from stored answers -----------------------------------------------------------


@pytest.mark.django_db
def test_alpha_per_version_is_computed_from_scored_stored_answers(org):
    answers = [MINIMAL, MILD, MODERATE, [3] * 9, [0, 1, 2, 3, 0, 1, 2, 3, 0]]
    for person, given_ in zip(persons(org, org.east, 5), answers, strict=True):
        stored_result(person, given_, at(2026, 3))
    load("phq9")
    flt = StatisticsFilter(Instrument.objects.get(slug="phq9"))
    [row] = alpha_rows(org.administrator, flt)
    expected = cronbach_alpha(pd.DataFrame(answers))  # PHQ-9 values equal option indexes
    assert (row.version, row.scale_code, row.k, row.n) == (1, "total", 9, 5)
    assert row.alpha == pytest.approx(expected.alpha)


@pytest.mark.django_db
def test_alpha_applies_reverse_keying(org):
    # Rosenberg (Chinese version): options 0..3 score 1,2,3,4, except the reverse-keyed
    # positive items 1,2,4,6,7 (4,3,2,1); alpha ignores the constant shift.
    load("rosenberg")
    rows = np.random.default_rng(6).integers(0, 4, size=(8, 10)).tolist()
    for person, given_ in zip(persons(org, org.east, 8), rows, strict=True):
        stored_result(person, given_, at(2026, 3), slug="rosenberg")
    flt = StatisticsFilter(Instrument.objects.get(slug="rosenberg"))
    [row] = alpha_rows(org.administrator, flt)
    reverse = {1, 2, 4, 6, 7}
    scored = pd.DataFrame(
        [[(3 - a if i + 1 in reverse else a) for i, a in enumerate(r)] for r in rows]
    )
    assert row.alpha == pytest.approx(cronbach_alpha(scored).alpha)
    assert row.alpha is not None
    unkeyed = cronbach_alpha(pd.DataFrame(rows)).alpha
    assert row.alpha != pytest.approx(unkeyed)  # the stored indexes alone would differ


@pytest.mark.django_db
def test_alpha_is_shown_as_a_dash_when_undefined(org, client):
    stored_result(org.person, MILD, at(2026, 3))
    login_staff(client, org.administrator)
    html = client.get(reverse("assessments_statistics"), {"instrument": "phq9"}).content.decode()
    row = html.split('data-testid="alpha-row"')[1].split("</tr>")[0]
    assert "<td>—</td>" in row


# --- Pages, exports and access -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_states_the_suppression_rule_and_is_logged(org, client):
    load("phq9")
    login_staff(client, org.administrator)
    response = client.get(reverse("assessments_statistics"), {"instrument": "phq9"})
    assert response.status_code == 200
    assert b'data-testid="suppression-note"' in response.content
    assert "&lt;5" in response.content.decode()
    event = AccessEvent.objects.filter(object_type="assessments.statistics").get()
    assert (event.action, event.username) == (Action.VIEW, "administrator")


@pytest.mark.django_db
def test_the_csv_export_has_a_bom_suppressed_cells_and_is_logged(org, client):
    for person in persons(org, org.east, 5):
        stored_result(person, MINIMAL, at(2026, 3))
    login_staff(client, org.administrator)
    response = client.post(
        reverse("assessments_statistics_export"),
        {"instrument": "phq9", "period": "month", "format": "csv", "table": "bands"},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    assert "东司法所,2026-03" in text and ",5\r\n" in text and ",<5\r\n" in text
    event = AccessEvent.objects.filter(action=Action.EXPORT).get()
    assert event.object_type == "assessments.statistics" and "csv" in event.detail


@pytest.mark.django_db
def test_the_export_is_a_post_form_carrying_the_pages_filters(org, client):
    for person in persons(org, org.east, 5):
        stored_result(person, MINIMAL, at(2026, 3))
    login_staff(client, org.administrator)
    page = client.get(
        reverse("assessments_statistics"), {"instrument": "phq9", "period": "quarter"}
    )
    body = page.content.decode()
    assert 'data-testid="statistics-export"' in body and 'method="post"' in body
    assert '<input type="hidden" name="period" value="quarter">' in body
    assert "?format=" not in body and "&amp;format=" not in body
    export = reverse("assessments_statistics_export")
    assert client.get(export, {"instrument": "phq9"}).status_code == 405
    assert not AccessEvent.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.django_db
def test_the_excel_export_has_both_tables(org, client):
    for person in persons(org, org.east, 5):
        stored_result(person, MILD, at(2026, 3))
    login_staff(client, org.administrator)
    response = client.post(
        reverse("assessments_statistics_export"), {"instrument": "phq9", "format": "xlsx"}
    )
    assert response.status_code == 200
    book = load_workbook(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    assert len(book.sheetnames) == 2
    bands, alpha = (list(book[name].values) for name in book.sheetnames)
    assert any(row[1] == "东司法所" and row[4] == 5 for row in bands[1:])
    assert alpha[1][2:4] == (9, 5)


@pytest.mark.django_db
def test_office_names_cannot_smuggle_formulas_into_the_export(org, client):
    org.east.name = '=HYPERLINK("http://x")'
    org.east.save(update_fields=["name"])
    for person in persons(org, org.east, 5):
        stored_result(person, MINIMAL, at(2026, 3))
    login_staff(client, org.administrator)
    url = reverse("assessments_statistics_export")
    text = client.post(url, {"instrument": "phq9", "format": "csv"}).content.decode()
    assert "'=HYPERLINK" in text
    book = load_workbook(
        io.BytesIO(client.post(url, {"instrument": "phq9", "format": "xlsx"}).content)
    )
    values = [c for row in book.worksheets[0].values for c in row]
    assert '\'=HYPERLINK("http://x")' in values


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"instrument": "nosuch"},
        {"instrument": "phq9", "period": "week"},
        {"instrument": "phq9", "since": "2026-05-01", "until": "2026-04-01"},
        {"instrument": "phq9", "since": "tomorrow"},
        {"instrument": "phq9", "format": "pdf"},
        {"instrument": "phq9", "table": "persons"},
    ],
)
def test_a_bad_export_request_is_a_clear_400_and_not_logged(org, client, params):
    load("phq9")
    login_staff(client, org.administrator)
    response = client.post(reverse("assessments_statistics_export"), params)
    assert response.status_code == 400
    assert not AccessEvent.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.django_db
def test_a_bad_filter_on_the_page_shows_the_form_errors(org, client):
    load("phq9")
    login_staff(client, org.administrator)
    response = client.get(
        reverse("assessments_statistics"),
        {"instrument": "phq9", "since": "2026-05-01", "until": "2026-04-01"},
    )
    assert response.status_code == 200
    assert b'data-testid="band-table"' not in response.content


def refused(response) -> bool:
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"] == "/admin/"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["counselor", "officer", "other_officer", "lecturer"])
def test_only_administrators_see_statistics(org, client, name):
    load("phq9")
    login_staff(client, getattr(org, name))
    assert refused(client.get(reverse("assessments_statistics"), {"instrument": "phq9"}))
    assert refused(client.post(reverse("assessments_statistics_export"), {"instrument": "phq9"}))
    assert not AccessEvent.objects.filter(object_type="assessments.statistics").exists()
    assert AccessEvent.objects.filter(action=Action.DENIED).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["learner", "outsider"])
def test_non_staff_are_sent_to_sign_in(org, client, name):
    client.force_login(getattr(org, name))
    response = client.get(reverse("assessments_statistics"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_the_statistics_page_runs_a_fixed_number_of_queries(org, client):
    load("phq9")
    login_staff(client, org.administrator)
    url = reverse("assessments_statistics")
    client.get(url, {"instrument": "phq9"})
    counts = []
    for batch in (1, 12):
        for person in persons(org, org.east, batch) + persons(org, org.west, batch):
            for month in (1, 2, 3):
                stored_result(person, MILD if month % 2 else MINIMAL, at(2026, month))
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, {"instrument": "phq9"})
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
