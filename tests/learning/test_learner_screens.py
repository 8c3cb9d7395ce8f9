"""What a learner reads on the phone: the quiz result sentence, "not passed" not in success
green, minutes before the first hour, credit never shown past the lesson's need, course
titles as links, lecture speakers as "title name", no raw status codes."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from learning import quizzes
from learning.heartbeat import store
from learning.heartbeat.rule import COMPLETION_SHARE
from learning.models import LessonProgress
from lib.study_time import study_time_text
from live.demo import UPCOMING
from live.models import Lecture
from participation.models import ParticipationStatus
from people.demo import STAFF
from tests.learning.builders import WRONG

pytestmark = pytest.mark.django_db

SITE_CSS = Path(settings.BASE_DIR) / "static" / "css" / "site.css"


def background(css: str, selector: str) -> str | None:
    match = re.search(re.escape(selector) + r"\s*\{[^}]*background:\s*([^;]+);", css)
    return match.group(1).strip() if match else None


def test_the_quiz_result_says_how_many_of_how_many_were_right(client, org, lesson):
    quizzes.do_submit_quiz(org.person, lesson, WRONG)
    client.force_login(org.learner)
    text = client.get(lesson.url).text
    assert "共 2 题，答对 0 题" in text
    assert "2 题答对 0 题" not in text
    assert 'class="quiz-not-passed"' in text


def test_not_passed_is_a_warning_and_never_success_green(client, org, lesson):
    client.force_login(org.learner)
    response = client.post(
        f"/learning/quiz/{lesson.pk}/", {"attempt": "1", "q-q-single": "1", "q-q-tf": "1"}
    )
    page = client.get(response["Location"].split("#")[0])
    assert 'class="message message-warning"' in page.text
    css = SITE_CSS.read_text()
    success = background(css, ".message-success")
    assert background(css, ".message-warning") not in (None, success)
    assert background(css, ".message") != success  # untagged messages are not green either


def test_minutes_of_study_show_as_minutes_until_the_first_hour(client, org, course, lesson):
    at = dt.datetime.now(dt.UTC)
    for step in range(0, 121, 15):
        store.do_record_heartbeat(
            org.person, lesson, "tab-aaaaaaaa", at + dt.timedelta(seconds=step)
        )
    client.force_login(org.learner)
    text = client.get("/").text
    hours = re.search(r'data-testid="month-hours">([^<]*)<', text).group(1)
    assert re.fullmatch(r"已学 [1-9][0-9]? 分钟，共需 8 小时", hours), hours
    assert "0.0" not in text


def test_credit_past_completion_is_shown_as_the_lesson_need(client, org, lesson):
    need = int(lesson.expected_seconds * COMPLETION_SHARE)
    LessonProgress.objects.create(person=org.person, lesson=lesson, credited_seconds=need + 8)
    client.force_login(org.learner)
    text = client.get(lesson.url).text
    assert f'data-seconds="{need}"' in text
    assert ">已学 4 分钟 / 共 4 分钟<" in text
    assert f">{need + 8}<" not in text


def study_time(text: str) -> str:
    return re.search(r'data-testid="study-time"[^>]*>([^<]*)<', text).group(1)


def test_the_lesson_counter_reads_minutes_not_a_count_of_seconds(client, org, lesson):
    client.force_login(org.learner)
    text = client.get(lesson.url).text
    assert study_time(text) == "已学 0 分钟 / 共 4 分钟"  # the need is 240 s, never "0 / 240 秒"
    # The script that updates it live gets the same words in Chinese.
    assert 'data-sentence="已学 %(done)s / 共 %(total)s"' in text
    assert 'data-minutes="%(n)s 分钟"' in text and 'data-secs="%(n)s 秒"' in text


@pytest.mark.parametrize(
    ("credited", "chinese", "english"),
    [
        (45, "已学 45 秒 / 共 4 分钟", "Studied 45 sec of 4 min"),
        (150, "已学 2 分钟 / 共 4 分钟", "Studied 2 min of 4 min"),
        (239, "已学 3 分钟 / 共 4 分钟", "Studied 3 min of 4 min"),
    ],
)
def test_the_lesson_counter_speaks_both_languages(client, org, lesson, credited, chinese, english):
    LessonProgress.objects.create(person=org.person, lesson=lesson, credited_seconds=credited)
    client.force_login(org.learner)
    assert study_time(client.get(lesson.url).text) == chinese
    client.cookies["django_language"] = "en"
    assert study_time(client.get(lesson.url).text) == english


def test_study_time_rounds_the_need_up_and_the_credit_down():
    with translation.override("zh-hans"):
        assert study_time_text(0, 336) == "已学 0 分钟 / 共 6 分钟"
        assert study_time_text(335, 336) == "已学 5 分钟 / 共 6 分钟"
        assert study_time_text(336, 336) == "已学 6 分钟 / 共 6 分钟"
        assert study_time_text(20, 36) == "已学 20 秒 / 共 36 秒"
        assert study_time_text(0, 36) == "已学 0 秒 / 共 36 秒"  # not "0 分钟 / 共 36 秒"


def test_the_heartbeat_script_updates_the_counter_with_the_same_formats():
    script = (Path(settings.BASE_DIR) / "static" / "js" / "heartbeat.js").read_text()
    assert "[data-testid=study-time]" in script
    for name in ("sentence", "minutes", "secs"):
        assert f"text.dataset.{name}" in script


def test_course_titles_on_the_home_page_are_links(client, org, course):
    client.force_login(org.learner)
    text = client.get("/").text
    assert f'<a href="{course.url}" data-testid="course-link">{course.title}</a>' in text


def test_a_speaker_reads_title_then_name_once(org):
    lecture = Lecture(lecturer=org.lecturer, lecturer_title="民警", lecturer_name="孙伟")
    assert lecture.speaker == "民警 孙伟"
    org.lecturer.name = "检察官 赵刚"
    assert Lecture(lecturer=org.lecturer, lecturer_title="检察官").speaker == "检察官 赵刚"


def test_the_demo_lecturer_has_a_plain_name_and_the_upcoming_lecture_its_own_speaker():
    names = {username: name for username, name, _ in STAFF}
    assert names["lecturer1"] == "赵刚"
    assert all(" " not in name for name in names.values())  # no "心理咨询师 陈静"
    assert (UPCOMING["lecturer_title"], UPCOMING["lecturer_name"]) == ("民警", "孙伟")


def test_participation_in_progress_is_not_the_questionnaires_filling_in():
    with translation.override("zh-hans"):
        assert str(ParticipationStatus.IN_PROGRESS.label) == "进行中"


def test_the_home_page_questionnaire_buttons_have_no_bullets():
    rule = re.search(r"\.q-dashboard\s*\{([^}]*)\}", SITE_CSS.read_text())
    assert rule and "list-style: none" in rule.group(1)
