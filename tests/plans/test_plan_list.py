"""The plan list on Wagtail's IndexView: scope per role, search, filters, ordering and the
administrators' logged export."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.models import AccessEvent, Action
from plans.drafting import do_draft_plan
from plans.models import PlanStatus
from tests.factories import login_staff, make_person

pytestmark = pytest.mark.django_db

URL = "/admin/plans/"


def _bureau_viewer(org):
    org.administrator.user_permissions.add(
        Permission.objects.get(content_type__app_label="plans", codename="view_bureau_plans")
    )
    return org.administrator


def test_the_url_and_its_results_are_kept():
    assert reverse("plans_plan_list") == URL
    assert reverse("plans_plan_list_results") == URL + "results/"


def test_an_officer_of_another_office_sees_nothing_of_this_one(client, org):
    plan = do_draft_plan(org.person, org.counselor, "first")
    login_staff(client, org.other_officer)
    for params in ({}, {"q": org.person.case_number}, {"office": org.east.pk}, {"plan": "draft"}):
        html = client.get(URL, params).content.decode()
        listing = html.split('data-testid="plan-list"')[-1] if "plan-list" in html else ""
        assert f"plan-link-{plan.pk}" not in html and org.person.case_number not in listing, params
    results = client.get(reverse("plans_plan_list_results"), {"q": org.person.case_number})
    assert org.person.case_number not in results.content.decode()


def test_search_plan_filter_and_order(client, org):
    plan = do_draft_plan(org.person, org.counselor, "first")
    plain = make_person(org.east, counselors=(org.counselor,))
    login_staff(client, org.counselor)
    html = client.get(URL, {"q": plain.case_number}).content.decode()
    assert plain.case_number in html and f"plan-link-{plan.pk}" not in html
    html = client.get(URL, {"plan": "none"}).content.decode()
    assert plain.case_number in html and f"plan-link-{plan.pk}" not in html
    html = client.get(URL, {"plan": PlanStatus.DRAFT}).content.decode()
    assert f"plan-link-{plan.pk}" in html and plain.case_number not in html
    up, down = (
        client.get(URL, {"ordering": order}).content.decode().split('data-testid="plan-list"')[1]
        for order in ("case_number", "-case_number")
    )
    first, last = sorted([org.person.case_number, plain.case_number])
    assert up.index(first) < up.index(last)
    assert down.index(last) < down.index(first)
    assert client.get(URL, {"plan": "nonsense", "ordering": "x"}).status_code == 200


def test_export_is_logged_and_for_administrators_only(client, org):
    do_draft_plan(org.person, org.counselor, "first")
    login_staff(client, _bureau_viewer(org))
    before = AccessEvent.objects.filter(action=Action.EXPORT).count()
    response = client.get(URL, {"export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert org.person.case_number in body and "草稿" in body and "<a" not in body
    assert AccessEvent.objects.filter(action=Action.EXPORT).count() == before + 1
    login_staff(client, org.counselor)
    refused = client.get(URL, {"export": "csv"})
    assert refused.status_code in (302, 403) and not refused.get("Content-Disposition")
