"""Chinese text uses full-width punctuation: "继续学习：…", not "继续学习: …" (found in a
walk-through of the learner pages; a half-width colon or question mark after Chinese reads as
a typo)."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings

from learning.models import Enrollment
from tests.learning.builders import make_course

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# A half-width colon, question mark, exclamation mark, comma or semicolon right after a Chinese
# character or closing Chinese bracket; "时:分" is a time format (hh:mm), not punctuation.
HALF_WIDTH_AFTER_CHINESE = re.compile(r"(?<!时)[\u4e00-\u9fff）》”][:?!,;](?!分)")


def test_no_chinese_translation_has_half_width_punctuation():
    bad = [
        entry.msgstr
        for entry in polib.pofile(str(PO))
        if HALF_WIDTH_AFTER_CHINESE.search(entry.msgstr)
    ]
    assert bad == []


@pytest.mark.django_db
def test_the_home_button_reads_continue_studying_with_a_full_width_colon(client, org):
    course = make_course(lessons=1)
    Enrollment.objects.create(person=org.person, course=course)
    client.force_login(org.learner)
    text = client.get("/").text
    assert "继续学习：Lesson" in text
    assert "下一课时：Lesson" in text
    assert not re.search(r"(继续学习|下一课时): ", text)
