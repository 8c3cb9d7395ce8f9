"""Participation dashboards (learning/dashboard_views.py) and their SVG charts (charts.py)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessEvent, Action
from participation import rollups
from participation.charts import Point, heatmap_svg, trend_svg
from participation.models import ParticipationRecord, ParticipationSource, StudyQuota
from people.models import Category, Office
from tests.factories import login_staff, make_person

SVG = "{http://www.w3.org/2000/svg}"


# --- Charts -------------------------------------------------------------------------------


def _texts(svg) -> list[str]:
    root = ET.fromstring(str(svg))  # noqa: S314 - our own output
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def test_trend_chart_is_well_formed_titled_and_carries_the_numbers():
    points = [Point("2026-01", 87.5, 7, 8), Point("2026-02", None), Point("2026-03", 100.0, 3, 3)]
    svg = trend_svg(points, "Rate <by> month & office", no_data="no data")
    root = ET.fromstring(str(svg))  # noqa: S314 - our own output
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Rate <by> month & office"
    assert "87.5%" in root.find(f"{SVG}desc").text
    texts = _texts(svg)
    for expected in ("87.5%", "7/8", "100%", "3/3", "2026-02", "no data"):
        assert expected in texts
    assert root.find(f"{SVG}polyline") is not None


def test_heatmap_is_well_formed_with_a_number_in_every_cell_and_a_legend():
    rows = [
        ("东<所>", [Point("2026-01", 50.0, 1, 2), Point("2026-02", 96.0, 24, 25)]),
        ("西所", [Point("2026-01", None), Point("2026-02", 100.0, 4, 4)]),
    ]
    svg = heatmap_svg(rows, ["2026-01", "2026-02"], "By office & month")
    root = ET.fromstring(str(svg))  # noqa: S314 - our own output
    assert len(root.findall(f"{SVG}rect")) == 4 + 5  # cells + legend
    texts = _texts(svg)
    for expected in ("东<所>", "50%", "96%", "–", "100%", "<70%", "2026-02"):
        assert expected in texts


# --- Pages --------------------------------------------------------------------------------

THIS_MONTH = timezone.localdate().replace(day=1)


@pytest.fixture
def figures(org):
    """This month: the learner is short of study hours (at risk or missed); a second east
    person and the west person have done it all."""
    StudyQuota.objects.update_or_create(category=Category.NORMAL, defaults={"hours": 1})
    done = make_person(org.east)
    for person, minutes in ((org.person, 10), (done, 90), (org.other_person, 90)):
        ParticipationRecord.objects.create(
            person=person,
            source=ParticipationSource.LESSON,
            requirement_key="lesson:1",
            period=THIS_MONTH,
            minutes=minutes,
        )
    for person in (org.person, done, org.other_person):
        person.supervision_start = THIS_MONTH - dt.timedelta(days=40)
        person.supervision_end = THIS_MONTH + dt.timedelta(days=200)
        person.save(update_fields=["supervision_start", "supervision_end"])
    rollups.refresh_month(THIS_MONTH)
    return org


def _get(client, user, name, *args, **query):
    login_staff(client, user)
    return client.get(reverse(name, args=args), query)


def test_officer_sees_own_office_rate_and_charts(client, figures, english):
    response = _get(client, figures.officer, "learning_participation")
    assert response.status_code == 200
    html = response.content.decode()
    assert "50.0%" in html  # east: 1 of 2
    assert figures.east.name in html and figures.west.name not in html
    assert 'aria-labelledby="trend-title trend-desc"' in html
    assert 'aria-labelledby="heatmap-title heatmap-desc"' in html


def test_administrator_sees_every_office(client, figures, english):
    html = _get(client, figures.administrator, "learning_participation").content.decode()
    assert figures.east.name in html and figures.west.name in html
    assert "66.7%" in html  # bureau with the offices below: 2 of 3


@pytest.mark.parametrize("role", ["counselor", "lecturer", "editor"])
def test_staff_without_office_scope_are_refused(client, figures, role):
    response = _get(client, getattr(figures, role), "learning_participation")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert AccessEvent.objects.filter(action=Action.DENIED).exists()


def test_learner_goes_to_login(client, figures):
    client.force_login(figures.learner)
    response = client.get(reverse("learning_participation"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_future_or_malformed_month_gets_a_clear_message_and_nothing_else(
    client, figures, english
):
    future = (THIS_MONTH + dt.timedelta(days=40)).strftime("%Y-%m")
    response = _get(client, figures.officer, "learning_participation", month=future)
    assert response.status_code == 400
    assert b"has not started yet" in response.content and b"trend-title" not in response.content
    response = client.get(reverse("learning_participation"), {"month": "soon"})
    assert response.status_code == 400 and b"2026-03" in response.content


def test_drill_down_office_lists_persons_with_what_is_missing(client, figures, english):
    response = _get(
        client, figures.officer, "learning_participation_office", figures.east.pk, status="at_risk"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert figures.person.full_name in html  # short of hours, the month still open
    assert "Nobody to show" not in html


def test_drill_down_shows_the_missing_quota_of_the_person(client, english, figures):
    response = _get(client, figures.officer, "learning_participation_office", figures.east.pk)
    html = response.content.decode()
    assert figures.person.full_name in html
    assert f"Study for 1.0 hours in {THIS_MONTH:%B %Y}" in html and "0.9 h short" in html


def test_an_office_the_user_cannot_see_is_404_with_a_message(client, figures, english):
    response = _get(client, figures.officer, "learning_participation_office", figures.west.pk)
    assert response.status_code == 404
    assert b"not yours to see" in response.content and figures.west.name.encode() not in (
        response.content
    )
    assert _get(client, figures.officer, "learning_participation_office", 99999).status_code == 404


def test_person_page_is_logged_and_scoped(client, english, figures):
    response = _get(client, figures.officer, "learning_participation_person", figures.person.pk)
    assert response.status_code == 200
    assert f"Study for 1.0 hours in {THIS_MONTH:%B %Y}" in response.content.decode()
    assert AccessEvent.objects.filter(
        action=Action.VIEW, person_id=figures.person.pk, detail="participation months"
    ).exists()
    other = _get(client, figures.officer, "learning_participation_person", figures.other_person.pk)
    assert other.status_code == 404


def test_office_page_query_count_is_fixed(client, figures, django_assert_max_num_queries):
    for _ in range(20):
        make_person(Office.objects.get(pk=figures.east.pk))
    rollups.refresh_month(THIS_MONTH)
    login_staff(client, figures.officer)
    url = reverse("learning_participation_office", args=[figures.east.pk])
    client.get(url)  # warm the session and permission caches
    with django_assert_max_num_queries(25):
        assert client.get(url).status_code == 200


def test_overview_query_count_does_not_grow_with_offices(
    client, figures, django_assert_max_num_queries
):
    login_staff(client, figures.administrator)
    url = reverse("learning_participation")
    client.get(url)
    with django_assert_max_num_queries(25) as few:
        client.get(url)
    for n in range(15):
        make_person(Office.objects.get(pk=figures.bureau.pk).add_child(name=f"所{n}", code=f"x{n}"))
    rollups.refresh_month(THIS_MONTH)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


# --- The admin home panel -----------------------------------------------------------------


def test_officer_home_opens_on_who_is_not_yet_complete_and_why(client, english, figures):
    login_staff(client, figures.officer)
    html = client.get("/admin/").content.decode()
    assert "Not yet complete this month" in html
    assert figures.person.full_name in html
    assert f"Study for 1.0 hours in {THIS_MONTH:%B %Y}" in html
    assert reverse("learning_participation_person", args=[figures.person.pk]) in html


def test_other_officer_home_does_not_show_east_persons(client, figures, english):
    login_staff(client, figures.other_officer)
    html = client.get("/admin/").content.decode()
    assert "Not yet complete this month" in html
    assert figures.person.full_name not in html


def test_counselor_home_has_no_panel(client, figures, english):
    login_staff(client, figures.counselor)
    assert "Not yet complete this month" not in client.get("/admin/").content.decode()


# --- The month in progress ----------------------------------------------------------------


def test_a_month_in_progress_is_neutral_and_named_not_banded_red():
    points = [Point("2026-10", 100.0, 3, 3), Point("2026-11", 0.0, 0, 3, in_progress=True)]
    svg = trend_svg(points, "Rate", in_progress="本月进行中")
    root = ET.fromstring(str(svg))  # noqa: S314 - our own output
    fills = [c.get("fill") for c in root.iter(f"{SVG}circle")]
    red = "#d1242f"
    assert fills[1] != red and fills[1] != fills[0]
    assert "本月进行中" in _texts(svg)
    assert "本月进行中" in root.find(f"{SVG}desc").text
    # Only the finished months are joined by the solid line; the running one is dashed.
    dashed = [p for p in root.iter(f"{SVG}polyline") if p.get("stroke-dasharray")]
    assert len(dashed) == 1

    rows = [("东所", points)]
    grid = ET.fromstring(str(heatmap_svg(rows, ["2026-10", "2026-11"], "G", "本月进行中")))  # noqa: S314
    cell_fills = [r.get("fill") for r in grid.iter(f"{SVG}rect")][:2]
    assert cell_fills[1] != red
    assert "本月进行中" in _texts(heatmap_svg(rows, ["2026-10", "2026-11"], "G", "本月进行中"))


def test_the_label_of_a_100_percent_point_stays_inside_the_chart():
    svg = trend_svg([Point("2026-10", 100.0, 3, 3)], "Rate")
    root = ET.fromstring(str(svg))  # noqa: S314 - our own output
    labels = [t for t in root.iter(f"{SVG}text") if t.text == "100%" and t.get("font-weight")]
    # The label's baseline sits at y; a 12 px label needs about 12 px above it.
    assert float(labels[0].get("y")) >= 14


def test_the_dashboard_names_the_current_month_as_in_progress(client, figures):
    html = _get(client, figures.administrator, "learning_participation").content.decode()
    assert "本月进行中，截至目前：" in html
    assert "本月进行中</text>" in html  # the chart and the grid name it too
    last = (THIS_MONTH - dt.timedelta(days=1)).replace(day=1)
    html = _get(
        client, figures.administrator, "learning_participation", month=f"{last:%Y-%m}"
    ).content.decode()
    assert 'data-testid="participation-in-progress"' not in html


def test_what_is_missing_names_its_day_as_the_home_does():
    """The officer's home wrote follow-ups "12月12日 前" and missing items "(截止 2026-12-09)"
    with half-width parentheses: one way now, the day alone on the home (this month), the whole
    date on the dashboards that span months."""
    from django.template.loader import render_to_string
    from django.utils import translation

    from participation.models import PersonMonth
    from participation.views.dashboards import missing_items

    stored = [{"kind": "lecture", "title": "讲座", "due": "2026-12-09"}, {"title": "x", "due": "?"}]
    items = missing_items(PersonMonth(missing=stored))
    with translation.override("zh-hans"):
        home = render_to_string(
            "participation/dashboard/_missing.html", {"items": items, "short_dates": True}
        )
        dashboard = render_to_string("participation/dashboard/_missing.html", {"items": items})
    assert "12月9日 前" in home and "2026-12-09 前" in dashboard
    assert "(" not in home + dashboard and "截止" not in home + dashboard
