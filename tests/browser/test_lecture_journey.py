"""A learner finds a lecture on the home page and opens its page on a phone.

The Jitsi room itself cannot load offline (its script comes from the video server), so the
test checks the page, the embed settings the server gave it, and that the page says so
plainly when the room cannot load."""

from __future__ import annotations

import datetime as dt
import json

import jwt
import pytest
from django.core.management import call_command
from django.utils import timezone

from live import jitsi
from live.models import Lecture
from people.models import Office, User
from tests.browser.test_login_journeys import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def running_lecture(django_db_serialized_rollback):
    call_command("seed_demo")
    lecture = Lecture.objects.create(
        title="心理健康讲座：情绪与压力",
        topic="mental_health",
        lecturer=User.objects.get(username="lecturer1"),
        lecturer_title="心理咨询师",
        start=timezone.now() - dt.timedelta(minutes=5),
        end=timezone.now() + dt.timedelta(minutes=55),
    )
    lecture.audience_offices.add(Office.objects.get(code="dongcheng"))
    return lecture


def test_learner_opens_a_lecture_from_the_home_page(live_server, running_lecture, phone):
    sign_in(phone, live_server.url, "learner1")
    card = phone.inner_text("[data-testid=upcoming-lectures]")
    assert "心理健康讲座：情绪与压力" in card
    assert "预防电信网络诈骗" in card  # the demo's upcoming lecture for every office
    phone.click(f"[data-testid=lecture-{running_lecture.pk}] a")
    phone.wait_for_load_state("load")
    assert phone.url.endswith(f"/live/lectures/{running_lecture.pk}/")
    assert phone.is_visible("[data-testid=attendance-explained]")
    assert phone.get_attribute("[data-testid=lecture]", "data-phase") == "open"

    embed = json.loads(phone.inner_text("#jitsi-embed"))
    assert embed["room"] == running_lecture.room_name
    assert embed["script_url"].startswith(f"https://{embed['domain']}/")
    learner = User.objects.get(username="learner1")
    if embed["jwt"]:  # a configured server: the token names the learner by the opaque id only
        claims = jwt.decode(embed["jwt"], options={"verify_signature": False})
        assert claims["context"]["user"]["id"] == jitsi.participant_id(learner.pk)
    else:  # the development default: a token-less local server
        assert jitsi.token_mode() is None
    scripts = phone.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert embed["script_url"] in scripts

    # offline, the IFrame API script cannot load: the page says so instead of staying blank
    phone.wait_for_selector("[data-testid=jitsi-room][data-state=unavailable]")
    assert phone.is_visible("[data-testid=jitsi-unavailable]")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


def test_another_offices_learner_cannot_open_it(live_server, running_lecture, phone):
    sign_in(phone, live_server.url, "learner20")  # 南湖司法所
    assert "心理健康讲座" not in phone.inner_text("main")
    response = phone.goto(f"{live_server.url}/live/lectures/{running_lecture.pk}/")
    assert response.status == 404
