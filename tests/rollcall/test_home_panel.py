"""The officer's home: recent roll-calls that need a look (not answered, late, not clearly
seen, waiting for confirmation), only of the persons the officer sees, in one query."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from rollcall import services
from rollcall.models import RollCallTarget
from rollcall.panels import recent_gaps
from tests.factories import login_staff

pytestmark = pytest.mark.django_db


def _call(officer, person, **changes) -> RollCallTarget:
    target = services.do_start_call(officer, [person]).targets[0]
    RollCallTarget.objects.filter(pk=target.pk).update(**changes)
    target.refresh_from_db()
    return target


def test_a_missed_call_of_the_officers_person_is_on_the_home_in_chinese(client, org):
    target = _call(org.officer, org.person, state="missed", result="missed")
    _call(org.other_officer, org.other_person, state="missed", result="missed")
    login_staff(client, org.officer)
    text = client.get("/admin/").text
    assert "最近需要关注的视频点验" in text
    assert "张三" in text and "未应答" in text
    assert reverse("rollcall_admin_target", args=[target.pk]) in text
    assert "李四" not in text  # the west office's person is not this officer's


def test_what_needs_a_look_and_what_does_not(org):
    now = timezone.now()
    in_time = _call(
        org.officer, org.person, state="confirmed", result="in_time", confirmation="seen"
    )
    late = _call(org.officer, org.person, state="confirmed", result="late", confirmation="seen")
    not_them = _call(
        org.officer, org.person, state="confirmed", result="in_time", confirmation="not_the_person"
    )
    waiting = _call(org.officer, org.person, state="joined")
    old = _call(
        org.officer,
        org.person,
        state="missed",
        result="missed",
        rung_at=now - dt.timedelta(days=15),
    )
    rows = recent_gaps(org.officer, now + dt.timedelta(seconds=1))
    assert {row.pk for row in rows} == {late.pk, not_them.pk, waiting.pk}
    assert in_time.pk not in {row.pk for row in rows} and old.pk not in {row.pk for row in rows}


def test_the_panel_is_one_query_whatever_the_number_of_calls(org, django_assert_num_queries):
    for _ in range(5):
        _call(org.officer, org.person, state="missed", result="missed")
    with django_assert_num_queries(1):
        rows = recent_gaps(org.officer, timezone.now())
        [row.person.full_name for row in rows]
    assert len(rows) == 5


def test_counselors_do_not_get_the_panel(client, org):
    _call(org.officer, org.person, state="missed", result="missed")
    login_staff(client, org.counselor)
    assert 'data-testid="home-rollcall-gaps"' not in client.get("/admin/").text
