"""An officer starts a video roll-call from the person page; the learner's phone, open on its
home page, is rung over the websocket and shows the full-screen call; the learner joins; the
video server reports the join, and the officer's board of the call changes without a reload;
the officer confirms who they saw.

Served by daphne in a thread (websockets), as the presence-check journey. No Jitsi server
runs here: the video server's ``external_api.js`` is answered by a stand-in that records the
room it was asked to open, and the server's join event is posted, signed, to live's webhook."""

from __future__ import annotations

import time

import pytest
import requests
from django.core.management import call_command
from django.urls import reverse

from live.webhooks import jaas_signature_header
from people.models import Person, User
from rollcall.models import RollCallTarget
from tests.browser.test_login_journeys import current_code, sign_in
from tests.browser.test_presence_check_journey import asgi_server_url
from tests.factories import make_totp_device
from tests.live.conftest import SECRET
from tests.rollcall.helpers import jaas_body, raw

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

FAKE_JITSI = """
window.JitsiMeetExternalAPI = function (domain, options) {
  window.openedRoom = {domain: domain, room: options.roomName, jwt: options.jwt || null};
  var frame = document.createElement("div");
  frame.setAttribute("data-testid", "fake-jitsi");
  options.parentNode.appendChild(frame);
};
"""


@pytest.fixture
def demo(django_db_serialized_rollback, monkeypatch, settings):
    monkeypatch.setattr("live.jitsi.server_reachable", lambda: True)
    settings.JAAS_WEBHOOK_SECRET = SECRET
    call_command("seed_demo")
    officer = User.objects.get(username="officer1")
    person = Person.objects.get(user__username="learner1")
    return officer, person, make_totp_device(officer)


def test_officer_calls_learner_joins_officer_confirms(demo, browser):
    officer, person, device = demo
    base = asgi_server_url()

    phone_context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    phone_context.route(
        "**/external_api.js",
        lambda route: route.fulfill(body=FAKE_JITSI, content_type="application/javascript"),
    )
    phone = phone_context.new_page()
    sign_in(phone, base, "learner1")
    phone.goto(f"{base}/")
    phone.wait_for_load_state("networkidle")

    desk_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    desk_context.route(
        "**/external_api.js",
        lambda route: route.fulfill(body=FAKE_JITSI, content_type="application/javascript"),
    )
    desk = desk_context.new_page()
    sign_in(desk, base, "officer1")
    person_url = f"{base}{reverse('people_person_detail', args=[person.pk])}"
    desk.goto(person_url)
    if desk.is_visible("input[name=token]"):
        desk.fill("input[name=token]", current_code(device))
        desk.click("main button[type=submit]")
        desk.wait_for_load_state("networkidle")
        desk.goto(person_url)
    desk.click("[data-testid=rollcall-call-now] button[type=submit]")
    desk.wait_for_selector("[data-testid=rollcall-target-page][data-state=ringing]")
    target = RollCallTarget.objects.get(person=person)

    # the phone rings: the push opens the full-screen call page
    phone.wait_for_url(f"**/rollcall/{target.pk}/", timeout=15000)
    assert "矫正工作人员正在呼叫您" in phone.inner_text("main")
    countdown = phone.inner_text("[data-testid=rollcall-countdown]")
    assert countdown.startswith("4:") or countdown.startswith("5:")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.click("[data-testid=rollcall-join]")
    phone.wait_for_selector("[data-testid=rollcall-room][data-state=started]")
    opened = phone.evaluate("window.openedRoom")
    assert opened["room"] == target.room_name

    # the officer's board of the call, live over the call's socket (ws/rollcall/<id>/)
    board = desk_context.new_page()
    board.goto(f"{base}{reverse('rollcall_admin_call', args=[target.call_id])}")
    board.wait_for_selector("#rollcall-board[data-socket=open]")
    row = f"[data-testid=rollcall-target][data-target='{target.pk}']"
    assert board.get_attribute(row, "data-state") == "ringing"

    # the video server reports the join on live's webhook
    body = raw(jaas_body(target, "PARTICIPANT_JOINED", target.rung_at, target.participant_id))
    answer = requests.post(
        f"{base}/live/hooks/jaas/",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Jaas-Signature": jaas_signature_header(SECRET, int(time.time()), body),
        },
        timeout=10,
    )
    assert answer.json() == {"status": "stored"}

    board.wait_for_selector(f"{row}[data-state=joined]")
    assert "按时应答" in board.inner_text(row)

    desk.reload()
    desk.wait_for_selector("[data-testid=rollcall-target-page][data-state=joined]")
    desk.check("input[name=confirmation][value=seen]")
    desk.click("[data-testid=rollcall-confirm-submit]")
    desk.wait_for_selector("[data-testid=rollcall-target-page][data-state=confirmed]")
    assert "按时应答" in desk.inner_text("[data-testid=rollcall-result]")
    target.refresh_from_db()
    assert (target.state, target.result, target.confirmed_by) == ("confirmed", "in_time", officer)

    # the learner's list shows it, calmly
    phone.goto(f"{base}/rollcall/")
    assert "按时应答" in phone.inner_text("[data-testid=rollcall-mine]")
    phone_context.close()
    desk_context.close()
