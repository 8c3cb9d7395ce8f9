"""The sockets' re-checks of account and session (people.consumers.allowed_sockets), batched
across sockets: the same answers as a check per socket, in a few database calls."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from people import consumers
from people.consumers import allowed_sockets
from people.models import User


def _signed_in(username: str) -> tuple[User, str]:
    user = User.objects.create_user(username, password="Socket-pass-2026!")
    client = Client()
    client.force_login(user)
    return user, client.session.session_key


@pytest.mark.django_db
def test_allowed_sockets_follows_account_and_session(django_assert_max_num_queries):
    ok, ok_key = _signed_in("re-ok")
    disabled, disabled_key = _signed_in("re-disabled")
    User.objects.filter(pk=disabled.pk).update(is_active=False)
    gone, gone_key = _signed_in("re-gone")
    Session.objects.filter(session_key=gone_key).delete()
    expired, expired_key = _signed_in("re-expired")
    Session.objects.filter(session_key=expired_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    other, other_key = _signed_in("re-other")
    no_session, _ = _signed_in("re-test-scope")
    owners = [
        (ok.pk, ok_key),
        (disabled.pk, disabled_key),
        (gone.pk, gone_key),
        (expired.pk, expired_key),
        (ok.pk, other_key),  # someone else's session
        (no_session.pk, None),  # a test scope without a session: the account alone
        (disabled.pk, None),
        (987654, None),
    ]
    with django_assert_max_num_queries(2):
        allowed = allowed_sockets(owners)
    assert allowed == {(ok.pk, ok_key), (no_session.pk, None)}
    # a session whose stored user changed no longer counts
    session = Session.objects.get(session_key=other_key)
    data = session.get_decoded()
    assert data[SESSION_KEY] == str(other.pk)
    assert allowed_sockets([(other.pk, other_key)]) == {(other.pk, other_key)}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_rechecks_asked_together_share_one_database_call(monkeypatch):
    users = await database_sync_to_async(lambda: [_signed_in(f"re-many-{i}") for i in range(30)])()
    calls = []
    real = consumers.allowed_sockets

    def counting(owners):
        calls.append(len(owners))
        return real(owners)

    monkeypatch.setattr(consumers, "allowed_sockets", counting)
    rechecks = consumers._rechecks_here()
    disabled = users[0][0]
    await database_sync_to_async(User.objects.filter(pk=disabled.pk).update)(is_active=False)
    answers = await asyncio.gather(*(rechecks.ask((user.pk, key)) for user, key in users))
    assert answers == [False] + [True] * 29
    assert calls == [30]
