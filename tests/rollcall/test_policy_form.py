"""The rules page (/admin/rollcall/policy/): typed fields, a new version per save, nothing
saved for no change or bad input (with the reason in Chinese beside the field), restoring an
earlier version, administrators only."""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from rollcall import services
from rollcall.forms import PolicyForm
from rollcall.models import RollCallPolicy
from rollcall.policy import DEFAULT_RULES, most_checks, parse_rules
from tests.factories import login_staff
from tests.security.matrix import FORBIDDEN, classify

URL = "/admin/rollcall/policy/"


def form_data(**overrides) -> dict:
    data = {
        "answer_within_minutes": 5,
        "late_within_minutes": 15,
        "sms_after_seconds": 60,
        "escalate_after_hours": 24,
        "failed_confirmations": ["not_the_person", "no_video"],
        "min_gap_hours": 24,
        "work_start_hour": 9,
        "work_end_hour": 17,
        "weekdays": [1, 2, 3, 4, 5],
        "spot_strict_count": 2,
        "spot_strict_per": "week",
        "spot_normal_count": 1,
        "spot_normal_per": "week",
        "spot_lenient_count": 2,
        "spot_lenient_per": "month",
        "note": "调整规则",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def admin_client(client, org):
    login_staff(client, org.administrator)
    return client


def test_the_form_shows_the_rules_in_use_and_gives_them_back_unchanged(org):
    initial = PolicyForm.initial_from(services.current_policy().rules)
    form = PolicyForm(data={**form_data(), **initial, "note": "x"})
    assert form.is_valid(), form.errors
    assert parse_rules(form.rules()) == parse_rules(DEFAULT_RULES)


def test_the_page_shows_typed_fields_with_chinese_labels(admin_client):
    text = admin_client.get(URL).text
    for label in ("按时接听（分钟内）", "迟到截止（分钟）", "多少秒后发短信提醒", "多少小时后上报"):
        assert label in text
    assert 'name="spot_strict_count"' in text and 'name="weekdays"' in text
    assert 'data-testid="policy-json"' in text  # the read-only data view


def test_each_save_is_a_new_version_and_old_ones_stay(admin_client, org):
    response = admin_client.post(URL, form_data(answer_within_minutes=3, note="三分钟"))
    assert response.status_code == 302
    admin_client.post(URL, form_data(answer_within_minutes=4, note="四分钟"))
    versions = list(RollCallPolicy.objects.order_by("version"))
    assert [v.version for v in versions] == [1, 2, 3]
    assert [v.rules["answer_within_minutes"] for v in versions] == [5, 3, 4]
    assert [v.active for v in versions] == [False, False, True]
    assert versions[2].note == "四分钟" and versions[2].created_by == org.administrator


def test_saving_without_a_change_adds_nothing(admin_client):
    response = admin_client.post(URL, form_data(), follow=True)
    assert "内容没有变化，没有保存新版本。" in response.text
    assert RollCallPolicy.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"answer_within_minutes": 10, "late_within_minutes": 5},
            "late_within_minutes",
            "迟到截止时间不能早于按时接听的时间（10 分钟）。",
        ),
        ({"work_start_hour": 24}, "work_start_hour", "24"),
        ({"work_end_hour": -1}, "work_end_hour", "-1"),
        (
            {"work_start_hour": 17, "work_end_hour": 9},
            "work_end_hour",
            "工作时间的结束钟点要晚于开始钟点。",
        ),
        (
            {"spot_strict_count": 6, "spot_strict_per": "week"},
            "spot_strict_count",
            "每周排不下 6 次抽查：按这样的工作时间、两次之间隔 24 小时，最多只能排 5 次。",
        ),
        ({"weekdays": None}, "weekdays", "请至少选择一个工作日。"),
        ({"note": ""}, "note", "请简单写明改了什么；未保存任何修改。"),
        ({"answer_within_minutes": "soon"}, "answer_within_minutes", "请输入整数"),
        ({"spot_normal_per": "year"}, "spot_normal_per", "year"),
    ],
)
def test_bad_input_is_refused_in_chinese_beside_the_field(admin_client, overrides, field, message):
    response = admin_client.post(URL, form_data(**overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    assert message in " ".join(form.errors[field]) or message in response.text
    assert RollCallPolicy.objects.count() == 1


def test_hours_outside_0_to_23_say_so_in_chinese(admin_client):
    form = admin_client.post(URL, form_data(work_start_hour=24)).context["form"]
    assert form.errors["work_start_hour"] == ["确保该值小于或等于23。"]


def test_an_earlier_version_can_be_made_current_again(admin_client):
    admin_client.post(URL, form_data(answer_within_minutes=3))
    url = reverse("rollcall_admin_policy_restore", args=[1])
    response = admin_client.post(url, {"note": "回到原来的规则"}, follow=True)
    assert "第 1 版" in response.text
    current = services.current_policy()
    assert (current.version, current.rules) == (3, RollCallPolicy.objects.get(version=1).rules)
    assert "回到原来的规则" in current.note
    # no note: nothing saved; the version in use again: nothing saved either
    admin_client.post(reverse("rollcall_admin_policy_restore", args=[2]), {"note": ""})
    admin_client.post(url, {"note": "再来一次"})
    assert RollCallPolicy.objects.count() == 3
    assert admin_client.post(reverse("rollcall_admin_policy_restore", args=[99])).status_code == 404


@pytest.mark.parametrize("who", ["officer", "counselor"])
def test_only_administrators_change_the_rules(client, org, who):
    login_staff(client, getattr(org, who))
    assert classify(client.get(URL)) == FORBIDDEN
    assert classify(client.post(URL, form_data(answer_within_minutes=3))) == FORBIDDEN
    restore = reverse("rollcall_admin_policy_restore", args=[1])
    assert classify(client.post(restore, {"note": "x"})) == FORBIDDEN
    assert RollCallPolicy.objects.count() == 1


def test_the_default_rules_fit_and_one_too_many_does_not():
    week = {"start_minute": 540, "end_minute": 1020, "weekdays": (1, 2, 3, 4, 5)}
    assert most_checks("week", gap_hours=24, **week) == 5
    assert most_checks("month", gap_hours=24, **week) == 20
    assert most_checks("week", gap_hours=0, **week) == 5 * 480
    assert most_checks("week", gap_hours=24, start_minute=0, end_minute=60, weekdays=()) == 0


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(0, 22),
    length=st.integers(1, 23),
    days=st.sets(st.integers(1, 7), min_size=1),
    gap=st.integers(0, 72),
    per=st.sampled_from(["week", "month"]),
)
def test_the_count_that_fits_really_fits(start, length, days, gap, per):
    """Bounds the greedy count must respect: at least one a working day when the gap is at most
    a day, at most one a working minute."""
    end = min(start + length, 24)
    most = most_checks(
        per, start_minute=start * 60, end_minute=end * 60, weekdays=tuple(days), gap_hours=gap
    )
    working_days = len(days) if per == "week" else 4 * len(days)
    assert most >= 1
    if gap <= 24:
        assert most >= working_days
    assert most <= working_days * (end - start) * 60
