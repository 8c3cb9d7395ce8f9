"""The access log page reads as words: the object's kind in the reader's language and its
name, the role's label; the raw codes stay in the export (an audit record)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from audit.labels import MAX_NAMED_MODELS
from audit.models import Action
from audit.services import record_access
from live.models import Lecture
from people.models import Person
from tests.assessments.helpers import submitted
from tests.factories import login_staff
from tests.live.helpers import make_lecture

pytestmark = pytest.mark.django_db


def test_objects_show_their_kind_and_name_not_a_code(client, org):
    lecture = make_lecture(org, title="法律常识讲座")
    record_access(action=Action.VIEW, user=org.officer, obj=lecture)
    record_access(action=Action.VIEW, user=org.officer, obj=org.person, person_id=org.person.pk)
    login_staff(client, org.administrator)

    html = client.get(reverse("audit_access_log")).content.decode()

    with translation.override("zh-hans"):
        lecture_kind = str(Lecture._meta.verbose_name)
        person_kind = str(Person._meta.verbose_name)
    assert lecture_kind != "lecture" and person_kind != "person"  # translated
    assert f"{lecture_kind}：法律常识讲座" in html
    assert f"{person_kind}：{org.person.full_name}" in html
    assert f"live.lecture {lecture.pk}" not in html
    assert f"people.person {org.person.pk}" not in html
    assert re.search(r"<td>officer</td>\s*<td>矫正工作人员</td>", html)  # the user, then the role


def test_a_denied_address_reads_as_a_page_address(client, org):
    login_staff(client, org.counselor)
    client.get(reverse("people_roster_import"))
    login_staff(client, org.administrator)

    html = client.get(reverse("audit_access_log")).content.decode()

    assert "网页地址" in html


def test_the_raw_codes_stay_in_the_export(client, org):
    lecture = make_lecture(org)
    record_access(action=Action.VIEW, user=org.officer, obj=lecture)
    login_staff(client, org.administrator)

    export = client.post(reverse("audit_access_log_export"))

    body = b"".join(export.streaming_content).decode("utf-8-sig")
    assert f"live.lecture,{lecture.pk}" in body


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(reverse("audit_access_log")).status_code == 200
    return len(context)


def test_the_page_keeps_a_fixed_number_of_queries(client, org, django_assert_max_num_queries):
    record_access(action=Action.VIEW, user=org.officer, obj=org.person)
    login_staff(client, org.administrator)
    few = _queries(client)

    # Many rows of many kinds: persons, users, offices, lectures and more than the named limit.
    for n in range(20):
        record_access(action=Action.VIEW, user=org.officer, obj=make_lecture(org, title=f"讲 {n}"))
    for obj in (org.person, org.other_person, org.east, org.west, org.officer, org.counselor):
        record_access(action=Action.VIEW, user=org.administrator, obj=obj)
    for label in (
        "assessments.response",
        "assessments.result",
        "plans.plan",
        "plans.goal",
        "live.attendance",
        "participation.followup",
        "notifications.notification",
        "url",
    ):
        record_access(action=Action.VIEW, user=org.officer, object_type=label, object_id=1)

    with django_assert_max_num_queries(few + MAX_NAMED_MODELS):
        client.get(reverse("audit_access_log"))


def test_the_person_shows_as_a_case_number_and_a_result_by_questionnaire_and_date(client, org):
    result = submitted(org.person, [0] * 9)
    record_access(action=Action.VIEW, user=org.counselor, obj=result, person_id=org.person.pk)
    login_staff(client, org.administrator)

    html = client.get(reverse("audit_access_log")).content.decode()

    assert f'<td data-testid="access-log-case">{org.person.case_number}</td>' in html
    assert f'<td data-testid="access-log-case">{org.person.pk}</td>' not in html
    day = timezone.localtime(result.created_at).date().isoformat()
    assert f"患者健康问卷抑郁量表（PHQ-9）结果（{day}）" in html
