"""A learner plays the demo lesson video on a phone; only playing time is credited."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from courses.demo import demo_video_seconds
from tests.browser.test_login_journeys import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LESSON = "/courses/community-corrections-law/reporting/"


@pytest.fixture
def demo(django_db_serialized_rollback, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo")


def credited(phone) -> int:
    return int(phone.get_attribute("[data-testid=study-time]", "data-seconds"))


def wait_until(phone, check, seconds: float) -> None:
    """Poll from Python: the page's CSP forbids the string evaluation of wait_for_function."""
    for _ in range(int(seconds * 4)):
        if check():
            return
        phone.wait_for_timeout(250)
    raise AssertionError(f"still false after {seconds} s")


def test_learner_watches_the_lesson_video_and_is_credited_while_it_plays(live_server, demo, phone):
    sign_in(phone, live_server.url, "learner1")
    # A 1 s interval for the test; the server still refuses beats under 5 s apart.
    phone.goto(f"{live_server.url}{LESSON}?interval=1000")
    video = "video[data-study-video]"
    wait_until(phone, lambda: phone.eval_on_selector(video, "el => el.readyState") >= 1, 10)
    # The browser reads the same length from the file as the lesson states.
    duration = phone.eval_on_selector(video, "el => el.duration")
    assert round(duration) == demo_video_seconds()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    # Captions for those who cannot hear it, and the same words to read (WCAG 1.2.2).
    track = f"{video} track[kind=captions]"
    wait_until(phone, lambda: phone.eval_on_selector(track, "el => el.readyState") == 2, 10)
    assert phone.eval_on_selector(video, "el => el.textTracks[0].cues.length") == 5
    phone.click("[data-testid=video-transcript] summary")
    assert "离开所居住的市、县" in phone.inner_text("[data-testid=video-transcript]")

    # Paused: beats say so and nothing is credited.
    phone.wait_for_timeout(1500)
    assert credited(phone) == 0

    phone.eval_on_selector(video, "el => { el.muted = true; return el.play(); }")
    wait_until(phone, lambda: phone.eval_on_selector(video, "el => el.currentTime") > 6, 15)
    wait_until(phone, lambda: credited(phone) > 0, 10)
    assert credited(phone) <= phone.eval_on_selector(video, "el => el.currentTime") + 2
