"""Wagtail's generic views join title and subtitle with the project's label separator."""

from __future__ import annotations

import pytest
from django.utils import translation
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from cms.admin_titles import join_title
from tests.factories import login_staff

pytestmark = pytest.mark.django_db


def test_the_method_wagtail_calls_is_ours():
    assert WagtailAdminTemplateMixin._label_separator is True
    assert WagtailAdminTemplateMixin.get_header_title.__module__ == "cms.admin_titles"


def test_join_title_by_language():
    with translation.override("zh-hans"):
        assert join_title("新", "讲座") == "新：讲座"
    with translation.override("en"):
        assert join_title("New", "Lecture") == "New: Lecture"
    assert join_title("讲座", "") == "讲座"


def test_the_add_lecture_page_reads_chinese_punctuation(client, org):
    login_staff(client, org.administrator)
    html = client.get("/admin/lectures/new/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "新：讲座" in html and "新: 讲座" not in html


def test_wagtails_error_summary_joins_label_and_error_with_the_chinese_colon(rf):
    from django import forms
    from django.contrib.messages import get_messages
    from django.contrib.messages.storage.fallback import FallbackStorage
    from wagtail.admin import messages as wagtail_messages

    class Form(forms.Form):
        title = forms.CharField(label="标题")

        def clean(self):
            raise forms.ValidationError("请检查下面的内容")

    assert wagtail_messages.validation_error.__module__ == "cms.admin_titles"
    request = rf.post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    form = Form(data={})
    with translation.override("zh-hans"):
        assert not form.is_valid()
        wagtail_messages.validation_error(request, "无法保存", form)
    text = str(next(iter(get_messages(request))))
    assert "<li>标题：必需字段</li>" in text and "<li>请检查下面的内容</li>" in text
    assert "标题: " not in text
