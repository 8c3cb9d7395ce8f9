"""The person's and the officer's roll-call pages."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from audit.models import AccessEvent, Action
from rollcall import services
from rollcall.models import RollCallPolicy, RollCallTarget
from tests.factories import login_staff
from tests.rollcall.helpers import matrix_target

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(org):
    return services.do_start_call(org.officer, [org.person]).targets[0]


# --- The person ----------------------------------------------------------------------------------


def test_the_call_page_is_calm_chinese_with_a_countdown_and_a_join_button(client, org, target):
    client.force_login(org.learner)
    response = client.get(reverse("rollcall_call", args=[target.pk]))
    text = response.text
    assert response.status_code == 200
    assert "矫正工作人员正在呼叫您" in text and "例行视频点验" in text and "不用紧张" in text
    assert 'data-testid="rollcall-join"' in text and 'data-testid="rollcall-countdown"' in text
    assert 'data-seconds-left="300"' in text or 'data-seconds-left="299"' in text
    assert "external_api.js" in text and "rollcall/call.js" in text


def test_another_persons_call_is_not_found(client, org, target):
    client.force_login(org.other_learner)
    assert client.get(reverse("rollcall_call", args=[target.pk])).status_code == 404
    assert client.post(reverse("rollcall_join", args=[target.pk])).status_code == 404


def test_joining_answers_the_embed_and_an_ended_call_a_clear_409(client, org, target):
    client.force_login(org.learner)
    answer = client.post(reverse("rollcall_join", args=[target.pk])).json()
    assert answer["embed"]["room"] == target.room_name and answer["embed"]["jwt"]
    services.do_excuse(target, org.officer, note="x")
    response = client.post(reverse("rollcall_join", args=[target.pk]))
    assert response.status_code == 409
    assert response.json()["message"] == "本次点验已经结束，您现在不需要做什么。"


def test_an_ended_call_page_shows_the_result_without_the_room(client, org, target):
    RollCallTarget.objects.filter(pk=target.pk).update(state="missed", result="missed")
    client.force_login(org.learner)
    text = client.get(reverse("rollcall_call", args=[target.pk])).text
    assert "本次点验已结束" in text and "未应答" in text
    assert "rollcall/call.js" not in text


def test_my_roll_calls_lists_only_mine(client, org, target):
    client.force_login(org.learner)
    text = client.get(reverse("rollcall_mine")).text
    assert text.count('data-testid="rollcall-row"') == 1
    client.force_login(org.other_learner)
    assert 'data-testid="rollcall-none"' in client.get(reverse("rollcall_mine")).text


def test_the_learner_home_shows_the_ringing_call(client, org, target):
    client.force_login(org.learner)
    text = client.get("/").text
    assert 'data-testid="dashboard-rollcall-open"' in text
    assert "rollcall/ring.js" in text


# --- The officer ------------------------------------------------------------------------------


def test_calling_from_the_person_page_opens_the_call(client, org):
    login_staff(client, org.officer)
    page = client.get(reverse("people_person_detail", args=[org.person.pk])).text
    assert 'data-testid="rollcall-call-now"' in page
    response = client.post(reverse("rollcall_admin_call_person", args=[org.person.pk]))
    target = RollCallTarget.objects.get()
    assert response.url == reverse("rollcall_admin_target", args=[target.pk])
    text = client.get(response.url).text
    assert "打开视频房间" in text and "rollcall/call.js" in text
    # the second click while it rings: a clear message, nothing new
    response = client.post(reverse("rollcall_admin_call_person", args=[org.person.pk]), follow=True)
    assert "仍在呼叫中" in response.text
    assert RollCallTarget.objects.count() == 1


def test_counselors_do_not_see_the_call_button(client, org):
    login_staff(client, org.counselor)
    page = client.get(reverse("people_person_detail", args=[org.person.pk])).text
    assert 'data-testid="rollcall-call-now"' not in page


def test_the_officer_confirms_what_they_saw(client, org):
    pk = matrix_target(org)["pk"]
    login_staff(client, org.officer)
    response = client.post(
        reverse("rollcall_admin_confirm", args=[pk]),
        {"confirmation": "no_video", "note": "摄像头关着"},
        follow=True,
    )
    assert "确认已保存" in response.text
    target = RollCallTarget.objects.get(pk=pk)
    assert (target.confirmation, target.result, target.confirmation_note) == (
        "no_video",
        "missed",
        "摄像头关着",
    )
    assert AccessEvent.objects.filter(action=Action.VIEW, object_id=str(pk)).exists()


def test_other_without_a_note_is_refused_and_nothing_changes(client, org):
    pk = matrix_target(org)["pk"]
    login_staff(client, org.officer)
    response = client.post(
        reverse("rollcall_admin_confirm", args=[pk]), {"confirmation": "other"}, follow=True
    )
    assert "请在备注中说明" in response.text
    assert RollCallTarget.objects.get(pk=pk).confirmation == ""


def test_a_group_call_by_office(client, org):
    login_staff(client, org.officer)
    response = client.post(reverse("rollcall_admin_start"), {"office": org.east.pk}, follow=True)
    assert "正在呼叫 1 人" in response.text
    assert [t.person for t in RollCallTarget.objects.all()] == [org.person]
    assert 'data-testid="rollcall-target"' in response.text


def test_a_group_call_naming_two_groups_is_refused(client, org):
    login_staff(client, org.officer)
    response = client.post(
        reverse("rollcall_admin_start"), {"office": org.east.pk, "category": "strict"}, follow=True
    )
    assert "请只选择一项" in response.text
    assert not RollCallTarget.objects.exists()


def test_an_office_outside_the_scope_is_not_a_choice(client, org):
    login_staff(client, org.officer)
    client.post(reverse("rollcall_admin_start"), {"office": org.west.pk})
    assert not RollCallTarget.objects.exists()


def test_a_spot_check_now_draws_from_the_scope(client, org):
    login_staff(client, org.officer)
    client.post(reverse("rollcall_admin_spot"), {"count": 5})
    assert [t.person for t in RollCallTarget.objects.all()] == [org.person]
    assert RollCallTarget.objects.get().call.kind == "spot"


def test_the_person_history_lists_the_calls(client, org, target):
    login_staff(client, org.officer)
    text = client.get(reverse("rollcall_admin_person", args=[org.person.pk])).text
    assert text.count('data-testid="rollcall-history-row"') == 1
    login_staff(client, org.other_officer)
    assert client.get(reverse("rollcall_admin_person", args=[org.person.pk])).status_code == 404


def test_administrators_change_the_rules_as_a_new_version(client, org):
    login_staff(client, org.administrator)
    rules = {**RollCallPolicy.objects.get().rules, "answer_within_minutes": 3}
    response = client.post(
        reverse("rollcall_admin_policy"), {"rules": json.dumps(rules), "note": "三分钟"}
    )
    assert response.status_code == 302
    assert services.current_policy().version == 2
    bad = client.post(reverse("rollcall_admin_policy"), {"rules": "{not json"})
    assert "不是有效的 JSON" in bad.text
    wrong = client.post(
        reverse("rollcall_admin_policy"),
        {"rules": json.dumps({**rules, "late_within_minutes": 1})},
    )
    assert "late_within_minutes" in wrong.text
    assert services.current_policy().version == 2


def test_the_menu_shows_roll_calls_under_people(client, org):
    login_staff(client, org.officer)
    text = client.get("/admin/").text
    assert reverse("rollcall_admin_index") in text
    login_staff(client, org.counselor)
    assert reverse("rollcall_admin_index") not in client.get("/admin/").text


def test_the_call_detail_counts_states(client, org, target):
    login_staff(client, org.officer)
    text = client.get(reverse("rollcall_admin_call", args=[target.call_id])).text
    assert "呼叫中：1" in text


def test_the_timeline_stays_unchanged_for_an_old_call(client, org):
    # a call long ago renders in the history without a room
    pk = matrix_target(org)["pk"]
    RollCallTarget.objects.filter(pk=pk).update(
        closes_at=RollCallTarget.objects.get(pk=pk).rung_at - dt.timedelta(days=1)
    )
    login_staff(client, org.officer)
    text = client.get(reverse("rollcall_admin_target", args=[pk])).text
    assert 'data-testid="rollcall-officer-join"' not in text or "rollcall-confirm" in text


def test_confirming_pushes_the_row_to_the_calls_board(
    org, pushes, board_pushes, django_capture_on_commit_callbacks
):
    target = RollCallTarget.objects.get(pk=matrix_target(org)["pk"])
    with django_capture_on_commit_callbacks(execute=True):
        services.do_confirm(target, org.other_officer, confirmation="seen")
    # to the call's group (every viewer of its board), no longer to single officers' ws/me/
    target.refresh_from_db()
    assert board_pushes == [(f"rollcall.{target.call_id}", services.board_payload(target))]
    assert board_pushes[0][1]["state"] == "confirmed"
    assert not [payload for _, payload in pushes if payload["type"] == "rollcall.target"]
