"""Markup found wanting by an axe-core run over the journeys (issue 19, item 6), checked here
without a browser: a skip link on every learner page, help texts that the fields' own
``aria-describedby`` can find, and questionnaire titles that say which question is open."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from people.privacy import do_acknowledge
from tests.assessments.helpers import assign
from tests.markup import id_problems

pytestmark = pytest.mark.django_db

SITE = "社区矫正学习与心理支持平台"


def _title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


@pytest.mark.parametrize("url", ["/", "/learning/absences/new/", "/notifications/"])
def test_a_learner_page_starts_with_a_skip_link_to_its_content(client, org, url):
    client.force_login(org.learner)
    html = client.get(url).content.decode()
    body = html[html.index("<body") :]
    first_link = re.search(r"<a [^>]*>", body).group(0)
    assert 'class="skip-link"' in first_link and 'href="#main"' in first_link
    assert '<main class="container" id="main">' in html
    assert "跳到正文" in body
    assert id_problems(html) == [], url


class _Helped(forms.Form):
    code = forms.CharField(label="Code", help_text="Six digits from the app.")


def test_a_help_text_has_the_id_its_field_points_to():
    form = _Helped()
    html = render_to_string("includes/field.html", {"field": form["code"]})
    assert 'aria-describedby="id_code_helptext"' in html
    assert 'id="id_code_helptext"' in html
    assert id_problems(html) == []


def test_a_questionnaire_page_title_says_which_question_is_open(client, org):
    do_acknowledge(org.person)
    assignment = assign(org.person, org.counselor)
    client.force_login(org.learner)
    with translation.override("zh-hans"):
        html = client.get(reverse("assessments_take", args=[assignment.pk])).content.decode()
    title = _title(html)
    assert title.startswith("第 1 题，共 9 题 · ") and title.endswith(f" · {SITE}"), title
