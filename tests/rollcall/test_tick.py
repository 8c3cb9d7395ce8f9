"""The minute tick and the daily draw: SMS fallback, deadlines, follow-up, escalation, spot
checks; idempotent under repetition."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from notifications.models import Delivery, Notification
from participation.followup import do_record_action, run_follow_up
from participation.models import FollowUp, FollowUpStage
from rollcall import services
from rollcall.models import RollCallTarget, SpotCheck
from rollcall.tick import do_draw_spot_checks, do_tick

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sms_on(settings):
    settings.REMINDER_CHANNELS = ["sms"]
    settings.SMS_BACKEND = "console"


@pytest.fixture
def target(org):
    org.person.phone = "13800000000"
    org.person.save(update_fields=["phone"])
    return services.do_start_call(org.officer, [org.person]).targets[0]


def test_the_sms_goes_after_a_minute_once(target):
    assert do_tick(target.rung_at + dt.timedelta(seconds=59))["sms_sent"] == 0
    assert do_tick(target.rung_at + dt.timedelta(seconds=61))["sms_sent"] == 1
    assert do_tick(target.rung_at + dt.timedelta(seconds=90))["sms_sent"] == 0
    delivery = Delivery.objects.get(dedupe_key=f"rollcall:{target.pk}:sms")
    assert f"/rollcall/{target.pk}/" in delivery.body
    target.refresh_from_db()
    assert target.sms_sent_at is not None


def test_a_worker_restarted_after_sending_never_sends_twice(target):
    # the message went out, then the worker died before marking the call: the key guards it
    do_tick(target.rung_at + dt.timedelta(seconds=61))
    RollCallTarget.objects.filter(pk=target.pk).update(sms_sent_at=None)
    do_tick(target.rung_at + dt.timedelta(seconds=62))
    assert Delivery.objects.filter(dedupe_key=f"rollcall:{target.pk}:sms").count() == 1


def test_no_sms_to_a_person_who_joined(target):
    RollCallTarget.objects.filter(pk=target.pk).update(state="joined")
    do_tick(target.rung_at + dt.timedelta(minutes=2))
    assert not Delivery.objects.exists()


def test_a_closed_room_without_a_join_is_missed_and_opens_one_follow_up(org, target):
    counts = do_tick(target.closes_at)
    assert counts["missed"] == 1 and counts["follow_ups_opened"] == 1
    target.refresh_from_db()
    assert (target.state, target.result) == ("missed", "missed")
    follow_up = FollowUp.objects.get(requirement_key=f"rollcall:{target.pk}")
    assert follow_up.stage == FollowUpStage.OFFICER
    assert follow_up.officer == org.officer
    assert "视频点验" in follow_up.requirement
    told = Notification.objects.get(
        recipient=org.officer, dedupe_key=f"rollcall:{target.pk}:followup"
    )
    assert told.url == reverse("learning_followup_detail", args=[follow_up.pk])
    # again, and again: nothing doubles
    do_tick(target.closes_at + dt.timedelta(minutes=1))
    do_tick(target.closes_at + dt.timedelta(minutes=2))
    assert FollowUp.objects.count() == 1
    assert Notification.objects.filter(recipient=org.officer).count() == 1


def test_the_follow_up_is_stored_in_the_sites_language_whatever_is_active(target):
    with translation.override("en"):
        do_tick(target.closes_at)
    follow_up = FollowUp.objects.get(requirement_key=f"rollcall:{target.pk}")
    assert "视频点验" in follow_up.requirement and "Video" not in follow_up.requirement


def test_participations_daily_run_leaves_roll_call_follow_ups_alone(target):
    do_tick(target.closes_at)
    run_follow_up(timezone.localdate())
    follow_up = FollowUp.objects.get(requirement_key=f"rollcall:{target.pk}")
    assert follow_up.stage == FollowUpStage.OFFICER and follow_up.resolved_at is None


def test_an_unanswered_task_escalates_after_24_hours_once(org, target):
    do_tick(target.closes_at)
    follow_up = FollowUp.objects.get()
    assert do_tick(target.closes_at + dt.timedelta(hours=23))["escalated"] == 0
    assert do_tick(target.closes_at + dt.timedelta(hours=24))["escalated"] == 1
    assert do_tick(target.closes_at + dt.timedelta(hours=25))["escalated"] == 0
    follow_up.refresh_from_db()
    assert follow_up.stage == FollowUpStage.ADMINISTRATOR
    assert Notification.objects.filter(recipient=org.administrator).count() == 1


def test_a_task_the_officer_acted_on_does_not_escalate(org, target):
    do_tick(target.closes_at)
    do_record_action(FollowUp.objects.get(), org.officer, action="called", note="")
    assert do_tick(target.closes_at + dt.timedelta(hours=30))["escalated"] == 0


def test_excusing_a_missed_call_resolves_its_follow_up(org, target):
    do_tick(target.closes_at)
    services.do_excuse(target, org.officer, note="医院证明")
    assert FollowUp.objects.get().stage == FollowUpStage.RESOLVED


def test_the_daily_draw_plans_spot_checks_once_and_the_tick_rings_them(org):
    monday = dt.date(2030, 1, 7)
    # persons: org.person (normal: 1 a week), org.other_person (normal)
    planned = do_draw_spot_checks(monday)
    assert planned == 2  # each normal person once this week; nobody lenient
    assert do_draw_spot_checks(monday) == 0  # again: nothing doubles
    # the first check of the week (the draw depends on the persons' ids: either may be first)
    check = SpotCheck.objects.order_by("at").first()
    local = timezone.localtime(check.at)
    assert check.period == "2030-W02" and 9 <= local.hour < 17 and local.isoweekday() <= 5
    assert do_tick(check.at - dt.timedelta(minutes=1))["spot_checks_started"] == 0
    assert do_tick(check.at)["spot_checks_started"] >= 1
    check.refresh_from_db()
    assert check.target is not None and check.target.call.kind == "spot"
    assert check.target.call.started_by is None
    assert do_tick(check.at + dt.timedelta(seconds=30))["spot_checks_started"] == 0
    assert RollCallTarget.objects.filter(person=check.person).count() == 1


def test_a_spot_check_waits_while_another_call_rings(org):
    SpotCheck.objects.create(
        person=org.person, period="x", seq=1, at=timezone.now(), policy_version=1
    )
    services.do_start_call(org.officer, [org.person])
    assert do_tick()["spot_checks_started"] == 0
    assert SpotCheck.objects.get().started_at is None


def test_a_worker_dying_while_starting_a_spot_check_loses_nothing(org, monkeypatch):
    SpotCheck.objects.create(
        person=org.person, period="x", seq=1, at=timezone.now(), policy_version=1
    )

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr("rollcall.tick.do_start_call", crash)
    with pytest.raises(RuntimeError):
        do_tick()
    assert SpotCheck.objects.get().started_at is None  # the claim rolled back with the call
    monkeypatch.undo()
    assert do_tick()["spot_checks_started"] == 1
    assert RollCallTarget.objects.count() == 1


def test_a_spot_check_when_the_video_server_is_down_is_not_possible(org, video_server):
    SpotCheck.objects.create(
        person=org.person, period="x", seq=1, at=timezone.now(), policy_version=1
    )
    video_server.up = False
    do_tick()
    check = SpotCheck.objects.get()
    assert check.target.state == "not_possible" and check.started_at is not None
    assert not FollowUp.objects.exists()


def test_correcting_a_failed_confirmation_resolves_the_follow_up(org):
    target = services.do_start_call(org.officer, [org.person]).targets[0]
    RollCallTarget.objects.filter(pk=target.pk).update(
        state="joined", joined_at=target.rung_at, result="in_time"
    )
    target.refresh_from_db()
    services.do_confirm(target, org.officer, confirmation="not_the_person", note="弟弟")
    do_tick(target.closes_at)
    assert FollowUp.objects.get().stage == FollowUpStage.OFFICER
    services.do_confirm(target, org.officer, confirmation="seen", note="看错了")
    assert FollowUp.objects.get().stage == FollowUpStage.RESOLVED
