from __future__ import annotations

import datetime as dt
import json

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.urls import reverse

from assessments.models import Alert
from assessments.taking import do_acknowledge_alert, escalate_overdue_alerts
from config.routing import websocket_urlpatterns
from people.roles import Role
from tests.assessments.helpers import submitted
from tests.factories import login_staff, make_org, make_user

CRITICAL = [0, 0, 0, 0, 0, 0, 0, 0, 2]  # PHQ-9 item 9 answered "more than half the days"


def communicator(user) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/me/")
    comm.scope["user"] = user
    return comm


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_critical_item_reaches_the_counselors_socket_at_once():
    org = await database_sync_to_async(make_org)()
    mine, theirs = communicator(org.counselor), communicator(org.other_counselor)
    for comm in (mine, theirs):
        assert (await comm.connect())[0]
        assert await comm.receive_json_from() == {"type": "hello"}

    result = await database_sync_to_async(submitted)(org.person, CRITICAL, org.counselor)

    message = await mine.receive_json_from(timeout=2)
    alert = await database_sync_to_async(Alert.objects.get)()
    assert message == {
        "type": "alert",
        "alert": alert.pk,
        "result": result.pk,
        "person": org.person.pk,
        "instrument": "phq9",
        "critical_items": [9],
        "url": reverse("assessments_result_detail", args=[result.pk]),
    }
    text = json.dumps(message, ensure_ascii=False)
    assert org.person.full_name not in text and "answers" not in text
    assert await theirs.receive_nothing(timeout=0.2)  # not their caseload
    await mine.disconnect()
    await theirs.disconnect()


@pytest.mark.django_db
def test_a_critical_item_raises_one_alert_and_a_quiet_answer_none(org):
    result = submitted(org.person, CRITICAL, org.counselor)
    alert = Alert.objects.get()
    assert (alert.result, alert.person, alert.critical_items) == (result, org.person, [9])
    assert alert.acknowledged_at is None and alert.escalated_at is None
    submitted(org.other_person, [0] * 9, org.other_counselor)
    assert Alert.objects.count() == 1


@pytest.mark.django_db
def test_acknowledging_records_who_and_when_once(org):
    submitted(org.person, CRITICAL, org.counselor)
    alert = Alert.objects.get()
    do_acknowledge_alert(alert, org.counselor)
    first = Alert.objects.get().acknowledged_at
    do_acknowledge_alert(alert, org.counselor)
    alert.refresh_from_db()
    assert alert.acknowledged_by == org.counselor
    assert alert.acknowledged_at == first


@pytest.mark.django_db
def test_the_counselor_acknowledges_from_the_result_page(org, client):
    result = submitted(org.person, CRITICAL, org.counselor)
    login_staff(client, org.counselor)
    url = reverse("assessments_result_detail", args=[result.pk])
    assert b'data-testid="acknowledge"' in client.get(url).content
    response = client.post(url, {"action": "acknowledge"})
    assert response.status_code == 302
    assert Alert.objects.get().acknowledged_by == org.counselor


@pytest.mark.django_db
def test_an_alert_unacknowledged_for_24_hours_escalates_once_to_the_bureau_administrators(
    org, monkeypatch
):
    sent = []
    monkeypatch.setattr(
        "assessments.taking.send_to_user", lambda user_id, payload: sent.append((user_id, payload))
    )
    elsewhere = make_user("elsewhere_admin", Role.ADMINISTRATOR)  # no office: not this bureau
    submitted(org.person, CRITICAL, org.counselor)
    alert = Alert.objects.get()
    sent.clear()

    assert escalate_overdue_alerts(alert.created_at + dt.timedelta(hours=23)) == 0
    assert sent == []
    later = alert.created_at + dt.timedelta(hours=24, minutes=1)
    assert escalate_overdue_alerts(later) == 1
    alert.refresh_from_db()
    assert alert.escalated_at == later
    assert [user_id for user_id, _ in sent] == [org.administrator.pk]
    assert sent[0][1]["type"] == "alert.escalated"
    assert elsewhere.pk not in [user_id for user_id, _ in sent]
    assert escalate_overdue_alerts(later + dt.timedelta(hours=1)) == 0  # once


@pytest.mark.django_db
def test_an_acknowledged_alert_never_escalates(org):
    submitted(org.person, CRITICAL, org.counselor)
    alert = Alert.objects.get()
    do_acknowledge_alert(alert, org.counselor)
    assert escalate_overdue_alerts(alert.created_at + dt.timedelta(days=3)) == 0


@pytest.mark.django_db
def test_the_escalate_alerts_command_runs_from_cron(org, capsys):
    submitted(org.person, CRITICAL, org.counselor)
    Alert.objects.filter(pk=Alert.objects.get().pk).update(
        created_at=Alert.objects.get().created_at - dt.timedelta(hours=25)
    )
    call_command("escalate_alerts")
    assert "1 alert(s) escalated" in capsys.readouterr().out
    assert Alert.objects.get().escalated_at is not None


# --- Stored notifications (notifications app) --------------------------------------------------


def _alert_texts(notification) -> str:
    return f"{notification.title} {notification.body} {notification.url}"


@pytest.mark.django_db
def test_each_of_the_persons_counselors_gets_a_notification_without_any_detail(org):
    from notifications.models import Notification
    from people.models import Caseload

    second = make_user("second_counselor", Role.COUNSELOR, office=org.bureau)
    Caseload.objects.create(person=org.person, counselor=second)
    result = submitted(org.person, CRITICAL, org.counselor)
    alert = Alert.objects.get()

    notes = list(Notification.objects.filter(kind="alert").order_by("recipient_id"))
    assert [n.recipient for n in notes] == [org.counselor, second]
    url = reverse("assessments_result_detail", args=[result.pk])
    for note in notes:
        assert note.url == url and note.safe_url == url
        text = _alert_texts(note)
        # Never who, never what was answered or scored: only "needs attention" and the link.
        for secret in (org.person.full_name, org.person.case_number, "phq9", "PHQ"):
            assert secret not in text
        assert str(result.scales["total"]["score"]) not in note.title + note.body
        assert not any(ch.isdigit() for ch in note.title + note.body)
    assert not Notification.objects.exclude(recipient__in=[org.counselor, second]).exists()
    assert alert.pk  # the alert row exists alongside the notifications


@pytest.mark.django_db
def test_a_quiet_result_notifies_nobody(org):
    from notifications.models import Notification

    submitted(org.person, [0] * 9, org.counselor)
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_escalation_notifies_the_bureau_administrators_once(org):
    from notifications.models import Notification

    elsewhere = make_user("elsewhere_admin", Role.ADMINISTRATOR)
    result = submitted(org.person, CRITICAL, org.counselor)
    alert = Alert.objects.get()
    later = alert.created_at + dt.timedelta(hours=24, minutes=1)
    assert escalate_overdue_alerts(later) == 1
    assert escalate_overdue_alerts(later + dt.timedelta(hours=2)) == 0

    admin_notes = Notification.objects.filter(recipient=org.administrator)
    assert admin_notes.count() == 1
    note = admin_notes.get()
    assert note.kind == "alert"
    assert note.url == reverse("assessments_result_detail", args=[result.pk])
    assert org.person.full_name not in _alert_texts(note)
    assert not any(ch.isdigit() for ch in note.title + note.body)
    assert not Notification.objects.filter(recipient=elsewhere).exists()
    # The counselor's own notification is not repeated by the escalation.
    assert Notification.objects.filter(recipient=org.counselor).count() == 1


@pytest.mark.django_db
def test_alert_notifications_are_written_in_the_sites_language(org, settings):
    from django.utils import translation

    from notifications.models import Notification

    with translation.override("en"):  # the learner reads the site in English
        submitted(org.person, CRITICAL, org.counselor)
    with translation.override(settings.LANGUAGE_CODE):
        from django.utils.translation import gettext

        expected = gettext("A questionnaire result needs your attention")
    assert Notification.objects.get().title == expected
