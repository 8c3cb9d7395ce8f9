"""Rows stored before notifications kept their source texts: the data migration recovers the
sources of the platform's fixed messages, so English readers read English; anything else is
shown as stored."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from notifications.models import Notification

pytestmark = pytest.mark.django_db

migration = importlib.import_module("notifications.migrations.0004_legacy_notification_sources")


def legacy(user, title: str, body: str = "") -> Notification:
    """A row as the old code stored it: the rendered text only."""
    return Notification.objects.create(recipient=user, kind="lecture", title=title, body=body)


def test_a_legacy_chinese_lecture_reminder_reads_english_in_english_mode(org, client):
    row = legacy(
        org.learner,
        "讲座即将开始：防诈骗，从我做起",
        "您的讲座将在 10:00 开始。请提前几分钟打开讲座页面；出勤由视频服务器自动记录。",
    )
    migration.forward(apps, None)
    row.refresh_from_db()
    assert row.title_source == "Lecture soon: %(title)s"
    assert row.params == {"title": "防诈骗，从我做起", "time": "10:00"}
    client.force_login(org.learner)
    client.cookies["django_language"] = "en"
    text = client.get(reverse("notifications_inbox")).text
    assert "Lecture soon: 防诈骗，从我做起" in text and "starts at 10:00" in text
    assert "讲座即将开始" not in text
    client.cookies["django_language"] = "zh-hans"
    assert "讲座即将开始：防诈骗，从我做起" in client.get(reverse("notifications_inbox")).text


def test_a_legacy_message_without_values_is_recovered_too(org):
    row = legacy(org.learner, "您的帮扶计划已经制定好了", "请阅读计划，并确认您已看过。")
    migration.forward(apps, None)
    row.refresh_from_db()
    assert (row.title_source, row.params) == ("Your support plan is ready", {})


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("请假申请已批准", "司法所写道：好好休息。"),  # a decision assembled from parts
        ("本月学习提醒", "张三，您本月还差 30 分钟。"),  # an administrator's own reminder text
        ("讲座即将开始：防诈骗", "您的讲座马上开始。"),  # the title matches, the text does not
    ],
)
def test_anything_else_is_left_as_stored(org, title, body):
    row = legacy(org.learner, title, body)
    migration.forward(apps, None)
    row.refresh_from_db()
    assert (row.title_source, row.body_source, row.params) == ("", "", {})
    assert (row.display_title, row.display_body) == (title, body)


def test_rows_that_already_keep_their_sources_are_not_touched(org):
    row = Notification.objects.create(
        recipient=org.learner,
        kind="lecture",
        title="讲座即将开始：A",
        body="",
        title_source="Lecture soon: %(title)s",
        params={"title": "A"},
    )
    migration.forward(apps, None)
    row.refresh_from_db()
    assert row.params == {"title": "A"} and row.body_source == ""
