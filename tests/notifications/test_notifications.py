from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from config.routing import websocket_urlpatterns
from notifications.models import Notification, is_safe_relative_url
from notifications.services import (
    Recipient,
    do_mark_all_read,
    do_mark_read,
    notify,
    notify_each,
    unread_count,
)
from tests.factories import login_staff, make_org

pytestmark = pytest.mark.django_db


def test_it_stores_a_notification_for_the_user(org):
    n = notify(org.learner, kind="reminder", title="  上课提醒 ", body="明天上课", url="/x/")
    assert n is not None
    stored = Notification.objects.get()
    assert (stored.recipient, stored.kind, stored.title, stored.body, stored.url) == (
        org.learner,
        "reminder",
        "上课提醒",
        "明天上课",
        "/x/",
    )
    assert stored.read_at is None and stored.dedupe_key is None


def test_the_same_dedupe_key_is_sent_once_per_user(org):
    first = notify(org.learner, kind="reminder", title="a", dedupe_key="lecture:1:2026-03-01")
    again = notify(org.learner, kind="reminder", title="b", dedupe_key="lecture:1:2026-03-01")
    other = notify(org.other_learner, kind="reminder", title="a", dedupe_key="lecture:1:2026-03-01")
    next_day = notify(org.learner, kind="reminder", title="a", dedupe_key="lecture:1:2026-03-02")
    assert first is not None and again is None
    assert other is not None and next_day is not None
    assert Notification.objects.filter(recipient=org.learner).count() == 2


def test_notifications_without_a_key_are_never_deduplicated(org):
    notify(org.learner, kind="general", title="a")
    notify(org.learner, kind="general", title="a")
    assert Notification.objects.count() == 2


def test_a_duplicate_inside_an_outer_transaction_leaves_it_usable(org, monkeypatch):
    # The race: the existence check passes but the row appears before the insert.
    notify(org.learner, kind="general", title="a", dedupe_key="k")
    monkeypatch.setattr(
        "notifications.services.Notification.objects.filter",
        lambda **kw: Notification.objects.none(),
    )
    with transaction.atomic():
        assert notify(org.learner, kind="general", title="a", dedupe_key="k") is None
        org.learner.name = "still writable"
        org.learner.save(update_fields=["name"])
    monkeypatch.undo()
    assert Notification.objects.filter(dedupe_key="k").count() == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "nonsense", "title": "a"},
        {"kind": "general", "title": "   "},
        {"kind": "general", "title": "x" * 201},
        {"kind": "general", "title": "a", "body": "x" * 2001},
        {"kind": "general", "title": "a", "url": "/" + "x" * 500},
        {"kind": "general", "title": "a", "dedupe_key": ""},
        {"kind": "general", "title": "a", "dedupe_key": 5},
        {"kind": "general", "title": "a\x00b"},
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(org, kwargs):
    with pytest.raises(ValueError):
        notify(org.learner, **kwargs)
    assert Notification.objects.count() == 0


def test_it_is_pushed_to_the_user_only_after_commit(org, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "notifications.services.send_to_user", lambda uid, payload: sent.append((uid, payload))
    )
    n = notify(org.learner, kind="assignment", title="请完成问卷", url="/assessments/")
    assert sent[0][0] == org.learner.pk
    assert sent[0][1]["type"] == "notification"
    assert (sent[0][1]["id"], sent[0][1]["url"]) == (n.pk, "/assessments/")
    notify(org.learner, kind="general", title="x", url="https://evil.example/")
    assert sent[1][1]["url"] == ""  # an unsafe link never travels as a link


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_the_users_socket_hears_the_notification_and_nobody_elses_does():
    org = await database_sync_to_async(make_org)()
    mine = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/me/")
    mine.scope["user"] = org.learner
    theirs = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/me/")
    theirs.scope["user"] = org.other_learner
    for comm in (mine, theirs):
        assert (await comm.connect())[0]
        assert await comm.receive_json_from() == {"type": "hello"}
    n = await database_sync_to_async(notify)(org.learner, kind="general", title="您好")
    message = await mine.receive_json_from(timeout=2)
    assert (message["type"], message["id"], message["title"]) == ("notification", n.pk, "您好")
    assert await theirs.receive_nothing(timeout=0.2)
    await mine.disconnect()
    await theirs.disconnect()


def test_mark_read_is_idempotent_and_keeps_the_first_time(org):
    n = notify(org.learner, kind="general", title="a")
    first = do_mark_read(org.learner, n.pk).read_at
    assert first is not None
    assert do_mark_read(org.learner, n.pk).read_at == first
    assert unread_count(org.learner) == 0


@pytest.mark.parametrize("pk", ["other", "missing", "abc", None, 10**30])
def test_one_user_cannot_mark_another_users_notification(org, pk):
    n = notify(org.learner, kind="general", title="a")
    target = {"other": n.pk, "missing": n.pk + 1000}.get(pk, pk)
    with pytest.raises(Http404):
        do_mark_read(org.other_learner, target)
    n.refresh_from_db()
    assert n.read_at is None


def test_mark_all_read_touches_only_the_callers_notifications(org):
    notify(org.learner, kind="general", title="a")
    notify(org.learner, kind="general", title="b")
    theirs = notify(org.other_learner, kind="general", title="c")
    assert do_mark_all_read(org.learner) == 2
    assert unread_count(org.learner) == 0
    assert unread_count(org.other_learner) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_for_user_is_empty_for_anonymous_and_inactive_users(org):
    from django.contrib.auth.models import AnonymousUser

    notify(org.learner, kind="general", title="a")
    assert not Notification.objects.for_user(AnonymousUser()).exists()
    org.learner.is_active = False
    org.learner.save(update_fields=["is_active"])
    assert not Notification.objects.for_user(org.learner).unread().exists()


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("/assessments/3/", True),
        ("/notifications/?a=1#x", True),
        ("", False),
        ("assessments/", False),
        ("//evil.example/", False),
        ("/\\evil.example", False),
        ("/\tevil", False),
        ("https://evil.example/", False),
        ("javascript:alert(1)", False),
        ("/ok\\path", False),
    ],
)
def test_only_paths_on_this_site_count_as_safe_links(url, safe):
    assert is_safe_relative_url(url) is safe


@given(st.text(max_size=40))
def test_a_safe_link_never_leaves_the_site(url):
    if is_safe_relative_url(url):
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("", "")
        assert url.startswith("/") and not url.startswith("//")
        assert "\\" not in url and all(ord(c) >= 32 for c in url)


# --- Pages ---------------------------------------------------------------------------------


def test_the_inbox_lists_only_my_notifications_newest_first(
    org, client, django_assert_max_num_queries
):
    for i in range(30):
        notify(org.learner, kind="general", title=f"mine {i}", url=f"/p/{i}/")
    notify(org.other_learner, kind="general", title="not yours")
    client.force_login(org.learner)
    client.get(reverse("notifications_inbox"))  # warm the session and caches
    with django_assert_max_num_queries(12):
        response = client.get(reverse("notifications_inbox"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "mine 29" in html and "not yours" not in html
    assert html.index("mine 29") < html.index("mine 0")


def test_the_query_count_of_the_inbox_does_not_grow_with_notifications(org, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(org.learner)
    counts = []
    for batch in (1, 40):
        for i in range(batch):
            notify(org.learner, kind="general", title=f"n{i}", url="/x/")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("notifications_inbox")).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_an_unsafe_link_is_shown_as_text_only(org, client):
    notify(org.learner, kind="general", title="看这里", url="https://evil.example/")
    notify(org.learner, kind="general", title="脚本", url="javascript:alert(1)")
    client.force_login(org.learner)
    html = client.get(reverse("notifications_inbox")).content.decode()
    assert "evil.example" not in html and "javascript:" not in html
    assert 'data-testid="open"' not in html and 'data-testid="mark-read"' in html


def test_opening_a_notification_marks_it_read_and_follows_its_link(org, client):
    n = notify(org.learner, kind="assignment", title="问卷", url="/assessments/")
    client.force_login(org.learner)
    response = client.post(reverse("notifications_open", args=[n.pk]))
    assert response.status_code == 302 and response["Location"] == "/assessments/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_opening_a_notification_with_an_unsafe_link_stays_on_the_site(org, client):
    n = notify(org.learner, kind="general", title="x", url="//evil.example/")
    client.force_login(org.learner)
    response = client.post(reverse("notifications_open", args=[n.pk]))
    assert response["Location"] == reverse("notifications_inbox")


def test_another_users_notification_answers_404_and_stays_unread(org, client):
    n = notify(org.learner, kind="general", title="x", url="/x/")
    for user in (org.other_learner, org.counselor, org.administrator, org.outsider):
        login_staff(client, user)
        assert client.post(reverse("notifications_open", args=[n.pk])).status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


def test_read_all_from_the_inbox(org, client):
    notify(org.learner, kind="general", title="a")
    notify(org.learner, kind="general", title="b")
    client.force_login(org.learner)
    assert b'data-testid="read-all"' in client.get(reverse("notifications_inbox")).content
    response = client.post(reverse("notifications_read_all"))
    assert response.status_code == 302
    assert unread_count(org.learner) == 0
    assert b'data-testid="read-all"' not in client.get(reverse("notifications_inbox")).content


def test_an_empty_inbox_says_so_kindly(org, client):
    client.force_login(org.learner)
    assert b'data-testid="no-notifications"' in client.get(reverse("notifications_inbox")).content


def test_the_header_shows_the_unread_count(org, client):
    client.force_login(org.learner)
    assert b'data-testid="notifications-badge"' not in client.get("/").content
    notify(org.learner, kind="general", title="a")
    notify(org.learner, kind="general", title="b")
    html = client.get("/").content.decode()
    assert 'data-testid="notifications-badge"' in html
    assert ">2</span>" in html


def test_anonymous_visitors_see_no_badge_and_are_sent_to_sign_in(client):
    assert b'data-testid="notifications-link"' not in client.get("/").content
    response = client.get(reverse("notifications_inbox"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Staff in the admin --------------------------------------------------------------------


def test_staff_read_their_notifications_in_the_admin_with_a_menu_count(org, client, english):
    n = notify(org.counselor, kind="alert", title="有一份结果需要您关注", url="/admin/x/")
    notify(org.administrator, kind="alert", title="not the counselor's")
    login_staff(client, org.counselor)
    html = client.get(reverse("notifications_admin_inbox")).content.decode()
    assert "有一份结果需要您关注" in html and "not the counselor's" not in html
    menu = client.get("/admin/").content.decode()
    assert "(1 unread)" in menu  # the sidebar is JSON: Chinese would be \u-escaped
    response = client.post(reverse("notifications_admin_inbox"), {"action": "open", "pk": n.pk})
    assert response.status_code == 302 and response["Location"] == "/admin/x/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_staff_cannot_open_someone_elses_notification_in_the_admin(org, client):
    n = notify(org.administrator, kind="alert", title="x")
    login_staff(client, org.counselor)
    response = client.post(reverse("notifications_admin_inbox"), {"action": "open", "pk": n.pk})
    assert response.status_code == 404
    response = client.post(reverse("notifications_admin_inbox"), {"action": "open", "pk": "x"})
    assert response.status_code == 404


def test_staff_mark_all_read_in_the_admin(org, client):
    notify(org.counselor, kind="general", title="a")
    other = notify(org.other_counselor, kind="general", title="b")
    login_staff(client, org.counselor)
    response = client.post(reverse("notifications_admin_inbox"), {"action": "read_all"})
    assert response.status_code == 302
    assert unread_count(org.counselor) == 0
    other.refresh_from_db()
    assert other.read_at is None


def test_learners_cannot_reach_the_admin_inbox(org, client):
    client.force_login(org.learner)
    response = client.get(reverse("notifications_admin_inbox"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_notifying_many_at_once_stores_and_pushes_one_each_and_skips_used_keys(
    org, monkeypatch, django_capture_on_commit_callbacks, django_assert_num_queries
):
    sent = []
    monkeypatch.setattr("notifications.services.send_to_users", sent.extend)
    notify(org.learner, kind="general", title="已有", dedupe_key="k:1")
    recipients = [
        Recipient(user=org.learner, url="/a/", dedupe_key="k:1"),  # used: skipped
        Recipient(user=org.other_learner, url="/b/", dedupe_key="k:1"),
        Recipient(user=org.counselor, url="/c/", dedupe_key="k:2"),
    ]
    with django_assert_num_queries(4):  # the keys used; the insert in its savepoint
        created = notify_each(
            recipients, kind="general", title="请于%(time)s前加入", params={"time": "10:05"}
        )
    assert [n.recipient_id for n in created] == [org.other_learner.pk, org.counselor.pk]
    stored = Notification.objects.get(recipient=org.counselor)
    assert (stored.title, stored.title_source, stored.params, stored.url) == (
        "请于10:05前加入",
        "请于%(time)s前加入",
        {"time": "10:05"},
        "/c/",
    )
    assert [(uid, payload["id"]) for uid, payload in sent] == [
        (n.recipient_id, n.pk) for n in created
    ]
    assert Notification.objects.filter(recipient=org.learner).count() == 1
