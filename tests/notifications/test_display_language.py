"""Notifications are rendered in the reader's language when shown (stored as source text and
values), and a notification link opened directly (GET) lands in the inbox, not on a 405."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.translation import gettext_noop

from notifications.models import NotificationKind
from notifications.services import notify
from plans.approval import _tell_person
from plans.models import Plan

pytestmark = pytest.mark.django_db


def test_a_notification_follows_the_readers_language(org, client):
    notify(
        org.learner,
        kind=NotificationKind.LECTURE,
        title=gettext_noop("Lecture soon: %(title)s"),
        body=gettext_noop(
            "Your lecture starts at %(time)s. Please open the lecture page a few "
            "minutes early; your attendance is recorded by the video server."
        ),
        params={"title": "防诈骗", "time": "10:00"},
    )
    client.force_login(org.learner)
    chinese = client.get(reverse("notifications_inbox")).content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(reverse("notifications_inbox")).content.decode()
    assert "Lecture soon: 防诈骗" in english and "starts at 10:00" in english
    assert "Lecture soon" not in chinese and "防诈骗" in chinese


def test_the_plan_notice_is_english_in_english_mode(org, client):
    plan = Plan(person=org.person, pk=999)
    _tell_person(plan)
    client.force_login(org.learner)
    client.cookies["django_language"] = "en"
    text = client.get(reverse("notifications_inbox")).content.decode()
    assert "Your support plan is ready" in text


def test_mismatched_values_are_refused_and_nothing_is_stored(org):
    with pytest.raises(ValueError, match="params"):
        notify(org.learner, kind="general", title="Lecture soon: %(title)s", params={"x": "1"})
    with pytest.raises(ValueError, match="params"):
        notify(org.learner, kind="general", title="t", params={"x": object()})
    assert not org.learner.notifications.exists()


def test_opening_a_notification_link_directly_shows_the_inbox(org, client):
    notification = notify(org.learner, kind="general", title="Hello", url="/plans/mine/")
    client.force_login(org.learner)
    response = client.get(reverse("notifications_open", args=[notification.pk]))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('notifications_inbox')}#n-{notification.pk}"
    notification.refresh_from_db()
    assert notification.read_at is None  # a GET changes nothing


def test_opening_someone_elses_notification_directly_is_404(org, client):
    notification = notify(org.other_learner, kind="general", title="Hello")
    client.force_login(org.learner)
    assert client.get(reverse("notifications_open", args=[notification.pk])).status_code == 404
