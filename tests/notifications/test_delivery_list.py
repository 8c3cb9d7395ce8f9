"""The delivery log (text messages and emails) on Wagtail's IndexView: scope, search by the
recipient, filters offering only the caller's own offices, ordering, the administrators'
logged export with masked addresses, and the empty state."""

from __future__ import annotations

import csv
import io
from itertools import count

import pytest
from django.urls import reverse

from audit.models import AccessEvent, Action
from notifications.models import Channel, Delivery, DeliveryStatus
from people.models import Office, OfficeKind
from people.roles import Role
from tests.factories import login_staff, make_person, make_user

pytestmark = pytest.mark.django_db

URL = "/admin/notifications/deliveries/"
PHONE = "13812345678"
_keys = count()


def _send(recipient, channel=Channel.SMS, status=DeliveryStatus.SENT, subject="", attempts=1):
    return Delivery.objects.create(
        recipient=recipient,
        channel=channel,
        address=PHONE if channel == Channel.SMS else "zhang.san@example.cn",
        subject=subject,
        body="温馨提示",
        dedupe_key=f"list-{next(_keys)}",
        status=status,
        attempts=attempts,
    )


def _rows(response) -> list[int]:
    """The delivery ids listed, in the order shown."""
    html = response.text.split('data-testid="delivery-log"', 1)[-1]
    return [int(chunk.split('"', 1)[0]) for chunk in html.split('data-testid="delivery-')[1:]]


def test_the_url_and_its_results_are_kept():
    assert reverse("notifications_delivery_log") == URL
    assert reverse("notifications_delivery_log_results") == URL + "results/"


def test_another_bureaus_messages_stay_out_whatever_the_filters(client, org):
    other_bureau = Office.add_root(name="别区司法局", code="elsewhere", kind=OfficeKind.BUREAU)
    stranger = make_person(other_bureau, make_user("far_learner", Role.LEARNER))
    theirs = _send(stranger.user)
    ours = _send(org.learner)
    login_staff(client, org.administrator)
    for params in (
        {},
        {"q": stranger.case_number},
        {"office": other_bureau.pk},
        {"status": "sent"},
    ):
        for url in (URL, reverse("notifications_delivery_log_results")):
            assert theirs.pk not in _rows(client.get(url, params)), (url, params)
    assert ours.pk in _rows(client.get(URL))


def test_the_office_filter_offers_only_the_callers_own_offices(client, org):
    other_bureau = Office.add_root(name="别区司法局", code="elsewhere", kind=OfficeKind.BUREAU)
    login_staff(client, org.administrator)
    html = client.get(URL).text
    assert f'value="{org.west.pk}"' in html and f'value="{other_bureau.pk}"' not in html


def test_search_by_the_recipients_name_or_case_number(client, org):
    mine = _send(org.learner)
    theirs = _send(org.other_learner)
    to_staff = _send(org.officer, channel=Channel.EMAIL, subject="讲座提醒")
    login_staff(client, org.administrator)
    assert _rows(client.get(URL, {"q": org.person.case_number})) == [mine.pk]
    assert _rows(client.get(URL, {"q": "李四"})) == [theirs.pk]
    assert _rows(client.get(URL, {"q": "讲座提醒"})) == [to_staff.pk]
    results = client.get(reverse("notifications_delivery_log_results"), {"q": "李四"})
    assert f'"delivery-{theirs.pk}"' in results.text and f'"delivery-{mine.pk}"' not in results.text


def test_filters_by_status_channel_and_office(client, org):
    failed = _send(org.learner, status=DeliveryStatus.FAILED, attempts=3)
    west = _send(org.other_learner)
    email = _send(org.officer, channel=Channel.EMAIL)
    login_staff(client, org.administrator)
    assert _rows(client.get(URL, {"status": DeliveryStatus.FAILED})) == [failed.pk]
    assert _rows(client.get(URL, {"channel": Channel.EMAIL})) == [email.pk]
    assert _rows(client.get(URL, {"office": org.west.pk})) == [west.pk]
    assert set(_rows(client.get(URL, {"office": org.east.pk}))) == {failed.pk, email.pk}
    # a value not understood is dropped, the other filters still apply
    assert _rows(client.get(URL, {"status": "lost", "channel": Channel.EMAIL})) == [email.pk]


def test_newest_first_and_ordering_is_stable(client, org):
    sent = [_send(org.learner, attempts=2) for _ in range(3)]
    login_staff(client, org.administrator)
    assert _rows(client.get(URL)) == [d.pk for d in reversed(sent)]
    up = _rows(client.get(URL, {"ordering": "attempts"}))
    assert up == [d.pk for d in sent]  # every row ties on attempts: the pk decides
    assert _rows(client.get(URL, {"ordering": "-attempts"})) == list(reversed(up))


def test_addresses_are_masked_on_the_page_and_in_the_export(client, org):
    _send(org.learner)
    _send(org.officer, channel=Channel.EMAIL)
    login_staff(client, org.administrator)
    page = client.get(URL).text
    assert "138****5678" in page and PHONE not in page and "zhang.san@" not in page
    before = AccessEvent.objects.filter(action=Action.EXPORT).count()
    response = client.get(URL, {"export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert len(rows) == 3 and "138****5678" in body and "z***@example.cn" in body
    assert PHONE not in body and "zhang.san@" not in body
    assert AccessEvent.objects.filter(action=Action.EXPORT).count() == before + 1


def test_the_export_is_refused_to_everyone_else(client, org):
    _send(org.learner)
    login_staff(client, org.officer)
    refused = client.get(URL, {"export": "csv"})
    assert refused.status_code in (302, 403) and not refused.get("Content-Disposition")


def test_each_view_is_logged_once(client, org):
    _send(org.learner)
    login_staff(client, org.administrator)
    client.get(URL)
    client.get(reverse("notifications_delivery_log_results"), {"status": "sent"})
    views = AccessEvent.objects.filter(action=Action.VIEW, object_type="notifications.delivery")
    assert views.count() == 2
    assert views.order_by("pk").first().detail == "delivery log page 1, 1 rows"


def test_the_empty_log_names_what_fills_it(client, org):
    login_staff(client, org.administrator)
    page = client.get(URL).text
    assert 'data-testid="no-deliveries"' in page and "提醒" in page
    page = client.get(URL, {"q": "没有这个人"}).text
    assert 'data-testid="no-deliveries"' in page and "清除搜索" in page


@pytest.mark.parametrize("extra", [2, 80])
def test_the_log_runs_a_fixed_number_of_queries(client, org, extra, django_assert_max_num_queries):
    for n in range(extra):
        _send(
            org.learner if n % 2 else org.officer, channel=Channel.SMS if n % 3 else Channel.EMAIL
        )
    login_staff(client, org.administrator)
    client.get(URL)
    # admin chrome, the count (a second page only), the page, the office filter's choices and
    # the access-log write
    with django_assert_max_num_queries(20):
        response = client.get(URL)
    assert len(_rows(response)) == min(extra, 50)
