"""The lecturer sends a presence check from the live roster; a learner answers it on a phone;
the roster shows the answer.

Websockets need an ASGI server: pytest-django's ``live_server`` speaks WSGI only, so this
test serves the project's ASGI application (HTTP, static files and websockets) with daphne in
a thread, on the same in-memory test database. Twisted's reactor runs once per process, so
the server is started once and left running until the process exits."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from live.audience import do_resolve_audience
from live.jitsi import participant_id
from live.models import CheckResponseStatus, Lecture, PresenceCheckResponse
from people.models import Office, Person, User
from tests.browser.test_login_journeys import current_code, sign_in
from tests.factories import make_totp_device
from tests.live.helpers import jaas, store

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

_server: dict[str, str] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def asgi_server_url() -> str:
    """The base URL of daphne serving ``config.asgi`` (started on first use)."""
    if "url" in _server:
        return _server["url"]
    from daphne.server import Server
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from config.asgi import application

    port = _free_port()
    server = Server(
        application=ASGIStaticFilesHandler(application),
        endpoints=[f"tcp:port={port}:interface=127.0.0.1"],
        signal_handlers=False,
    )
    threading.Thread(target=server.run, name="daphne-test", daemon=True).start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        pytest.fail("daphne did not start")
    # the host the browser uses must be an allowed host (and origin) of the site
    _server["url"] = f"http://localhost:{port}"
    return _server["url"]


@pytest.fixture
def running_lecture(django_db_serialized_rollback):
    call_command("seed_demo")
    lecturer = User.objects.get(username="lecturer1")
    lecture = Lecture.objects.create(
        title="法治讲座：在线点名",
        lecturer=lecturer,
        lecturer_title="检察官",
        start=timezone.now() - dt.timedelta(minutes=5),
        end=timezone.now() + dt.timedelta(minutes=55),
    )
    lecture.audience_offices.add(Office.objects.get(code="dongcheng"))
    do_resolve_audience(lecture)
    learner = User.objects.get(username="learner1")
    # the video server reports learner1 in the room
    store([jaas(lecture, "PARTICIPANT_JOINED", timezone.now(), participant_id(learner.pk))])
    device = make_totp_device(lecturer)
    return lecture, Person.objects.get(user=learner), device


def test_lecturer_checks_presence_and_learner_answers(running_lecture, browser):
    lecture, person, device = running_lecture
    base = asgi_server_url()

    phone_context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    phone = phone_context.new_page()
    sign_in(phone, base, "learner1")
    phone.goto(f"{base}/live/lectures/{lecture.pk}/")
    phone.wait_for_selector("[data-testid=presence-check][data-socket=open]", state="attached")
    assert not phone.is_visible("[data-testid=presence-check]")  # nothing asked yet

    desk_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    desk = desk_context.new_page()
    sign_in(desk, base, "lecturer1")
    desk.goto(f"{base}/admin/live/lectures/{lecture.pk}/roster/")
    desk.fill("input[name=token]", current_code(device))
    desk.click("main button[type=submit]")
    desk.wait_for_load_state("networkidle")
    if not desk.url.endswith(f"/admin/live/lectures/{lecture.pk}/roster/"):
        desk.goto(f"{base}/admin/live/lectures/{lecture.pk}/roster/")
    row = f"[data-testid=roster-row][data-person='{person.pk}']"
    desk.wait_for_selector(f"{row}[data-state=present]")
    assert "*" in desk.inner_text(row)  # masked name

    desk.click("[data-testid=send-check]")
    desk.wait_for_selector(f"{row}[data-check=asked]")

    phone.wait_for_selector("[data-testid=presence-check]", state="visible")
    assert phone.is_visible("[data-testid=presence-answer]")
    assert int(phone.inner_text("[data-testid=presence-countdown]")) > 50
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.click("[data-testid=presence-answer]")
    phone.wait_for_selector("[data-testid=presence-check][data-state=answered]")
    assert phone.is_visible("[data-testid=presence-done]")

    desk.wait_for_selector(f"{row}[data-check=answered]")
    response = PresenceCheckResponse.objects.get(person=person)
    assert response.status == CheckResponseStatus.ANSWERED
    phone_context.close()
    desk_context.close()
