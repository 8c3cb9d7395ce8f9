"""Starting a call: scope, one ringing call per person, the ring, the video server down."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation

from audit.models import AccessEvent, Action
from audit.services import verify_chain
from live import jitsi
from live.models import Lecture
from notifications.models import Notification
from people.models import Category
from rollcall import services
from rollcall.models import CallKind, RollCall, RollCallTarget, TargetState
from tests.factories import make_person
from tests.rollcall.conftest import JITSI_SECRET

pytestmark = pytest.mark.django_db


def start(org, persons=None, **kwargs):
    return services.do_start_call(org.officer, persons or [org.person], **kwargs)


def test_a_call_rings_the_persons_socket_and_leaves_a_notification(
    org, pushes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = start(org)
    target = result.targets[0]
    assert target.state == TargetState.RINGING
    assert target.room_name.startswith("rollcall-") and len(target.room_name) == 33
    assert target.participant_id == jitsi.participant_id(org.learner.pk)
    assert target.deadline - target.rung_at == dt.timedelta(minutes=5)
    assert target.closes_at - target.rung_at == dt.timedelta(minutes=15)
    assert target.policy_version == 1
    ring = [p for user, p in pushes if user == org.learner.pk and p["type"] == "rollcall.ring"]
    assert ring == [
        {
            "type": "rollcall.ring",
            "target": target.pk,
            "url": f"/rollcall/{target.pk}/",
            "deadline": target.deadline.isoformat(),
            "seconds_left": 300,
        }
    ]
    notification = Notification.objects.get(recipient=org.learner)
    assert notification.url == f"/rollcall/{target.pk}/"
    assert "视频点验" in notification.title
    assert AccessEvent.objects.filter(
        action=Action.CHANGE, person_id=org.person.pk, object_id=str(target.pk)
    ).exists()


def test_a_second_call_while_one_rings_is_refused_clearly(org):
    start(org)
    with pytest.raises(services.AlreadyRinging, match="仍在"):
        start(org)
    assert RollCallTarget.objects.count() == 1


def test_the_database_also_refuses_a_second_ringing_target(org):
    first = start(org).targets[0]
    call = RollCall.objects.create(kind=CallKind.SINGLE)
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError of the partial unique index
        RollCallTarget.objects.create(
            call=call,
            person=org.person,
            participant_id="x",
            rung_at=first.rung_at,
            deadline=first.deadline,
            closes_at=first.closes_at,
            policy_version=1,
        )


def test_a_person_outside_the_scope_is_refused_and_the_denial_logged(org):
    with pytest.raises(PermissionDenied):
        start(org, [org.other_person])
    assert not RollCallTarget.objects.exists()
    denial = AccessEvent.objects.get(action=Action.DENIED, person_id=org.other_person.pk)
    assert denial.username == "officer"


@pytest.mark.parametrize("role", ["counselor", "lecturer", "learner", "outsider", "editor"])
def test_roles_that_never_call_are_refused(org, role):
    with pytest.raises(PermissionDenied):
        services.do_start_call(getattr(org, role), [org.person])
    assert not RollCallTarget.objects.exists()


def test_the_video_server_down_makes_the_call_not_possible_never_missed(
    org, video_server, pushes, django_capture_on_commit_callbacks
):
    video_server.up = False
    with django_capture_on_commit_callbacks(execute=True):
        result = start(org)
    target = result.targets[0]
    assert result.not_possible
    assert (target.state, target.result) == ("not_possible", "not_possible")
    assert pushes == [] and not Notification.objects.exists()
    # nothing rings, so the person can be called again once the server is back
    video_server.up = True
    assert start(org).targets[0].state == TargetState.RINGING


def test_a_group_call_skips_those_still_ringing(org):
    second = make_person(org.east, case_officer=org.officer)
    start(org)
    persons = list(services.group_persons(org.officer, services.Group(office=org.east)))
    assert set(persons) == {org.person, second}
    result = services.do_start_call(org.officer, persons, kind=CallKind.GROUP)
    assert [t.person for t in result.targets] == [second]
    assert result.skipped == [org.person]


def test_everyone_ringing_in_a_group_is_a_clear_error(org):
    start(org)
    with pytest.raises(services.AlreadyRinging):
        services.do_start_call(org.officer, [org.person], kind=CallKind.GROUP)


def test_groups_are_narrowed_to_the_scope(org):
    strict_west = make_person(org.west, category=Category.STRICT)
    strict_east = make_person(org.east, category=Category.STRICT)
    by_category = services.group_persons(org.officer, services.Group(category=Category.STRICT))
    assert list(by_category) == [strict_east]
    assert strict_west in services.group_persons(
        org.administrator, services.Group(category=Category.STRICT)
    )
    assert not services.group_persons(org.officer, services.Group(office=org.west)).exists()


def test_a_lectures_audience_is_a_group(org):
    now = timezone.now()
    lecture = Lecture.objects.create(
        title="t",
        lecturer=org.lecturer,
        start=now + dt.timedelta(days=1),
        end=now + dt.timedelta(days=1, hours=1),
    )
    lecture.audience_offices.add(org.east)
    persons = services.group_persons(org.administrator, services.Group(lecture=lecture))
    assert list(persons) == [org.person]


def test_an_empty_group_is_a_clear_error(org):
    with pytest.raises(services.RollCallError):
        services.do_start_call(org.officer, [], kind=CallKind.GROUP)
    with pytest.raises(services.RollCallError):
        services.group_persons(org.officer, services.Group())


# --- Joining ---------------------------------------------------------------------------------


def test_the_persons_token_is_for_the_one_room_and_expires_when_it_closes(org):
    target = start(org).targets[0]
    embed = services.do_join(org.learner, target, moderator=False)
    claims = jwt.decode(embed["jwt"], JITSI_SECRET, algorithms=["HS256"], audience="jitsi")
    assert claims["room"] == target.room_name
    assert claims["exp"] == int(target.closes_at.timestamp())
    assert claims["context"]["user"]["moderator"] == "false"
    assert claims["context"]["user"]["id"] == target.participant_id


def test_the_officers_token_is_a_moderators_and_lets_their_events_in(org):
    target = start(org).targets[0]
    embed = services.do_join(org.officer, target, moderator=True)
    claims = jwt.decode(embed["jwt"], JITSI_SECRET, algorithms=["HS256"], audience="jitsi")
    assert claims["context"]["user"]["moderator"] == "true"
    target.refresh_from_db()
    assert target.staff_participants == [jitsi.participant_id(org.officer.pk)]


def test_a_token_asked_after_the_call_ended_is_refused(org):
    target = start(org).targets[0]
    later = target.closes_at + dt.timedelta(seconds=1)
    with pytest.raises(services.CallEnded):
        services.do_join(org.learner, target, moderator=False, now=later)
    RollCallTarget.objects.filter(pk=target.pk).update(state=TargetState.EXCUSED)
    target.refresh_from_db()
    with pytest.raises(services.CallEnded):
        services.do_join(org.learner, target, moderator=False)


def test_a_join_while_the_server_is_down_marks_the_call_not_possible(org, video_server):
    target = start(org).targets[0]
    video_server.up = False
    with pytest.raises(services.CallEnded):
        services.do_join(org.learner, target, moderator=False)
    target.refresh_from_db()
    assert (target.state, target.result) == ("not_possible", "not_possible")


# --- Confirming and excusing ------------------------------------------------------------------


def joined(org):
    target = start(org).targets[0]
    RollCallTarget.objects.filter(pk=target.pk).update(
        state=TargetState.JOINED,
        joined_at=target.rung_at + dt.timedelta(minutes=1),
        result="in_time",
    )
    target.refresh_from_db()
    return target


def test_confirming_seen_keeps_the_servers_result(org):
    target = services.do_confirm(joined(org), org.officer, confirmation="seen")
    assert (target.state, target.result, target.confirmed_by) == (
        "confirmed",
        "in_time",
        org.officer,
    )


def test_not_the_person_counts_as_missed(org):
    target = services.do_confirm(
        joined(org), org.officer, confirmation="not_the_person", note="另一人"
    )
    assert target.result == "missed"


@pytest.mark.parametrize(
    "confirmation, note", [("bogus", ""), ("other", ""), ("seen", "x" * 1001), ("seen", "a\x00")]
)
def test_bad_confirmations_are_refused_and_change_nothing(org, confirmation, note):
    target = joined(org)
    with pytest.raises(services.RollCallError):
        services.do_confirm(target, org.officer, confirmation=confirmation, note=note)
    target.refresh_from_db()
    assert target.state == "joined" and target.confirmation == ""


def test_nothing_to_confirm_before_the_server_saw_a_join(org):
    target = start(org).targets[0]
    with translation.override("zh-hans"), pytest.raises(services.RollCallError, match="视频服务器"):
        services.do_confirm(target, org.officer, confirmation="seen")


def test_excusing_needs_a_reason_and_closes_the_call(org):
    target = start(org).targets[0]
    with pytest.raises(services.RollCallError):
        services.do_excuse(target, org.officer, note=" ")
    target = services.do_excuse(target, org.officer, note="住院")
    assert (target.state, target.result) == ("excused", "excused")
    # the person may be called again
    assert start(org).targets[0].state == "ringing"


# --- Policy versions ---------------------------------------------------------------------------


def test_a_policy_change_is_a_new_version_and_old_targets_keep_theirs(org):
    target = start(org).targets[0]
    rules = {**services.current_policy().rules, "answer_within_minutes": 3}
    policy = services.do_create_policy_version(rules, note="短一点", by=org.administrator)
    assert (policy.version, policy.active) == (2, True)
    target.refresh_from_db()
    assert target.policy_version == 1
    services.do_excuse(target, org.officer, note="x")
    assert start(org).targets[0].deadline - timezone.now() <= dt.timedelta(minutes=3)


def test_a_bad_policy_is_refused_and_nothing_stored(org):
    with pytest.raises(Exception, match="answer_within_minutes"):
        services.do_create_policy_version({"answer_within_minutes": "soon"})
    assert services.current_policy().version == 1


def test_the_subject_access_export_holds_the_roll_calls(org):
    target = services.do_start_call(org.officer, [org.person]).targets[0]
    services.do_excuse(target, org.officer, note="住院")
    data = services.collect_rollcall_data(org.person)
    assert data["roll_calls"][0]["result"] == "excused"
    assert data["roll_calls"][0]["officer_note"] == "住院"
    assert services.collect_rollcall_data(org.other_person) == {"roll_calls": []}


def _group_of(org, size: int) -> list:
    return [org.person, *(make_person(org.east) for _ in range(size - 1))]


@pytest.mark.parametrize("size", [2, 12])
def test_a_group_start_runs_the_same_queries_whatever_its_size(
    org, size, django_assert_num_queries
):
    persons = _group_of(org, size)
    with django_assert_num_queries(21):
        result = start(org, persons, kind=CallKind.GROUP)
    assert len(result.targets) == size


def test_a_group_start_rings_and_logs_each_person_once(
    org, pushes, django_capture_on_commit_callbacks
):
    persons = _group_of(org, 4)
    with django_capture_on_commit_callbacks(execute=True):
        result = start(org, persons, kind=CallKind.GROUP)
    rings = sorted(user for user, payload in pushes if payload["type"] == "rollcall.ring")
    assert rings == sorted(person.user_id for person in persons)
    for target in result.targets:
        notification = Notification.objects.get(dedupe_key=f"rollcall:{target.pk}:ring")
        assert notification.recipient_id == target.person.user_id
        assert notification.url == f"/rollcall/{target.pk}/"
    logged = AccessEvent.objects.filter(action=Action.CHANGE, detail="roll-call started (group)")
    assert sorted(logged.values_list("person_id", flat=True)) == sorted(p.pk for p in persons)
    assert verify_chain().ok


def test_a_worker_dying_halfway_through_a_group_start_leaves_nothing_and_rings_nobody(
    org, monkeypatch, django_capture_on_commit_callbacks
):
    """The group start is one transaction: killed after the targets and notifications were
    written (here: at the access log), nothing stays, nothing rings, and the officer's retry
    rings each person once."""
    from django.db import transaction

    from audit.services import record_access_many

    second = make_person(org.east, case_officer=org.officer)
    persons = [org.person, second]
    events_before = AccessEvent.objects.count()
    rung: list[int] = []

    def after_commit(messages):  # as lib.broadcast.send_to_users: the pushes go on commit
        messages = list(messages)
        transaction.on_commit(lambda: rung.extend(user for user, _payload in messages))

    def killed(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr("rollcall.services.send_to_users", after_commit)
    monkeypatch.setattr("rollcall.services.record_access_many", killed)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        services.do_start_call(org.officer, persons, kind=CallKind.GROUP)
    assert not RollCall.objects.exists() and not RollCallTarget.objects.exists()
    assert not Notification.objects.exists() and rung == []
    assert AccessEvent.objects.count() == events_before

    monkeypatch.setattr("rollcall.services.record_access_many", record_access_many)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.do_start_call(org.officer, persons, kind=CallKind.GROUP)
    assert sorted(rung) == sorted(p.user_id for p in persons)
    assert Notification.objects.count() == 2 and len(result.targets) == 2
    assert AccessEvent.objects.count() == events_before + 2
