"""notifications.senders: the HTTP SMS gateway against a real local HTTP server, the console
and email senders, the delivery log, and the administrators' page that lists it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from audit.models import AccessEvent
from notifications.models import Channel, Delivery, DeliveryStatus
from notifications.senders import (
    ConsoleSender,
    EmailSender,
    HttpSmsSender,
    do_deliver,
    get_sender,
    mask_email,
    mask_phone,
)
from tests.factories import login_staff

PHONE = "13812345678"


class Gateway:
    """A scripted SMS gateway: each request takes the next ``(status, body, delay)`` (the last
    one repeats) and is recorded."""

    def __init__(self):
        self.script: list[tuple[int, object, float]] = [(200, {"message_id": "gw-1"}, 0)]
        self.requests: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                gateway.requests.append(
                    {"headers": dict(self.headers), "body": json.loads(self.rfile.read(length))}
                )
                index = min(len(gateway.requests), len(gateway.script)) - 1
                status, body, delay = gateway.script[index]
                if delay:
                    time.sleep(delay)
                payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    server = Gateway()
    yield server
    server.close()


@pytest.fixture
def person(org):
    org.person.phone = PHONE
    org.person.save(update_fields=["phone"])
    return org.person


def sender_for(gateway, **kwargs) -> HttpSmsSender:
    options = {"timeout": 2, "max_attempts": 3, "backoff_seconds": 0.01, **kwargs}
    return HttpSmsSender(gateway.url, "secret-key", **options)


def deliver(person, sender, key="k1", sleeps=None):
    return do_deliver(
        person.user,
        channel=Channel.SMS,
        body="温馨提示：本月学习还差 2 小时",
        dedupe_key=key,
        sender=sender,
        sleep=(sleeps.append if sleeps is not None else (lambda s: None)),
    )


# --- HTTP SMS gateway -------------------------------------------------------------------------


def test_http_sender_posts_and_stores_the_message_id(person, gateway):
    delivery = deliver(person, sender_for(gateway))

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.provider_id == "gw-1"
    assert delivery.attempts == 1 and delivery.sent_at is not None and not delivery.last_error
    [request] = gateway.requests
    assert request["body"] == {
        "to": PHONE,
        "text": "温馨提示：本月学习还差 2 小时",
        "reference": str(delivery.pk),
    }
    assert request["headers"]["Authorization"] == "Bearer secret-key"
    assert request["headers"]["Idempotency-Key"] == f"delivery-{delivery.pk}"


def test_http_sender_retries_server_errors_with_backoff(person, gateway):
    gateway.script = [
        (503, {"error": "busy"}, 0),
        (502, "bad gateway", 0),
        (200, {"id": "gw-3"}, 0),
    ]
    sleeps: list[float] = []

    delivery = deliver(person, sender_for(gateway, backoff_seconds=1), sleeps=sleeps)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.provider_id == "gw-3"
    assert delivery.attempts == 3
    assert delivery.last_error == "gateway error HTTP 502"  # the last failure stays visible
    assert sleeps == [1, 2]  # exponential back-off
    assert len(gateway.requests) == 3
    assert {r["headers"]["Idempotency-Key"] for r in gateway.requests} == {
        f"delivery-{delivery.pk}"
    }


def test_http_sender_gives_up_after_the_last_attempt(person, gateway):
    gateway.script = [(500, {}, 0)]

    delivery = deliver(person, sender_for(gateway, max_attempts=2))

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 2 and len(gateway.requests) == 2
    assert delivery.last_error == "gateway error HTTP 500"
    assert delivery.sent_at is None


@pytest.mark.parametrize("status", [400, 401, 403, 422])
def test_http_sender_does_not_retry_client_errors(person, gateway, status):
    gateway.script = [(status, {"error": "invalid number"}, 0)]

    delivery = deliver(person, sender_for(gateway))

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1 and len(gateway.requests) == 1
    assert f"HTTP {status}" in delivery.last_error
    assert "secret-key" not in delivery.last_error


def test_http_sender_retries_a_timeout(person, gateway):
    gateway.script = [(200, {"message_id": "late"}, 1.5), (200, {"message_id": "gw-2"}, 0)]

    delivery = deliver(person, sender_for(gateway, timeout=0.5))

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.provider_id == "gw-2"
    assert delivery.attempts == 2
    assert "no answer within 0.5 s" in delivery.last_error


def test_http_sender_times_out_on_every_attempt(person, gateway):
    gateway.script = [(200, {}, 1.0)]

    delivery = deliver(person, sender_for(gateway, timeout=0.3, max_attempts=2))

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 2
    assert "no answer" in delivery.last_error


def test_http_sender_retries_when_nothing_listens(person, gateway):
    url = gateway.url
    gateway.close()  # the port is free now: connection refused

    sender = HttpSmsSender(url, "k", timeout=1, max_attempts=2, backoff_seconds=0)
    delivery = deliver(person, sender)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 2
    assert "cannot reach the gateway" in delivery.last_error
    gateway.server = _Closed()


class _Closed:
    def shutdown(self):
        pass

    def server_close(self):
        pass


def test_a_2xx_without_a_message_id_is_sent_with_an_empty_id(person, gateway):
    gateway.script = [(202, "accepted", 0)]

    delivery = deliver(person, sender_for(gateway))

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.provider_id == ""


# --- The delivery log rules -----------------------------------------------------------------


def test_same_key_sends_once(person, gateway):
    sender = sender_for(gateway)
    first = deliver(person, sender, key="followup:1:2026-03-25")
    second = deliver(person, sender, key="followup:1:2026-03-25")

    assert first is not None and second is None
    assert len(gateway.requests) == 1
    assert Delivery.objects.filter(channel=Channel.SMS).count() == 1


def test_no_phone_is_skipped_without_calling_the_gateway(org, gateway):
    delivery = deliver(org.person, sender_for(gateway))

    assert delivery.status == DeliveryStatus.SKIPPED
    assert delivery.attempts == 0 and gateway.requests == []


def test_a_crashing_sender_is_logged_as_failed(person):
    class Broken:
        channel = Channel.SMS
        max_attempts = 3
        backoff_seconds = 0

        def send(self, delivery):
            raise RuntimeError("bug")

    delivery = deliver(person, Broken())

    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert delivery.last_error == "unexpected error: RuntimeError"


# --- Console and email ------------------------------------------------------------------------


def test_console_sender_logs_the_masked_number(person, caplog):
    caplog.set_level("INFO", logger="notifications.senders")

    delivery = deliver(person, ConsoleSender())

    assert delivery.status == DeliveryStatus.SENT
    assert delivery.provider_id == f"console-{delivery.pk}"
    assert "138****5678" in caplog.text and PHONE not in caplog.text


def test_email_sender_uses_django_mail(org):
    org.learner.email = "zhangsan@example.cn"
    org.learner.save(update_fields=["email"])

    delivery = do_deliver(
        org.learner,
        channel=Channel.EMAIL,
        subject="温馨提示",
        body="本月学习还差 2 小时",
        dedupe_key="e1",
        sender=EmailSender(),
    )

    assert delivery.status == DeliveryStatus.SENT
    [message] = mail.outbox
    assert message.to == ["zhangsan@example.cn"] and message.subject == "温馨提示"
    assert message.extra_headers["Message-ID"].strip("<>") == delivery.provider_id


def test_email_refused_by_the_server_is_logged(org, settings, monkeypatch):
    import smtplib

    org.learner.email = "zhangsan@example.cn"
    org.learner.save(update_fields=["email"])

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({"zhangsan@example.cn": (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    delivery = do_deliver(
        org.learner, channel=Channel.EMAIL, body="x", dedupe_key="e2", sender=EmailSender()
    )

    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert "SMTPRecipientsRefused" in delivery.last_error


# --- Choosing a sender from settings ----------------------------------------------------------


def test_settings_choose_the_sender(settings):
    settings.REMINDER_CHANNELS = ["sms", "email"]
    settings.SMS_BACKEND = "console"
    assert isinstance(get_sender(Channel.SMS), ConsoleSender)
    assert isinstance(get_sender(Channel.EMAIL), EmailSender)

    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = "https://sms.example.cn/send"
    settings.SMS_API_KEY = "k"
    settings.SMS_TIMEOUT = 5
    settings.SMS_MAX_ATTEMPTS = 4
    settings.SMS_BACKOFF_SECONDS = 3
    sender = get_sender(Channel.SMS)
    assert isinstance(sender, HttpSmsSender)
    assert (sender.url, sender.timeout, sender.max_attempts) == (
        "https://sms.example.cn/send",
        5,
        4,
    )

    settings.SMS_BACKEND = "off"
    assert get_sender(Channel.SMS) is None
    settings.REMINDER_CHANNELS = ["sms"]
    assert get_sender(Channel.EMAIL) is None


def test_channel_off_sends_and_logs_nothing(person, settings):
    settings.SMS_BACKEND = "off"
    assert do_deliver(person.user, channel=Channel.SMS, body="x", dedupe_key="off") is None
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    "env",
    [
        {"SMS_BACKEND": "pigeon"},
        {"SMS_BACKEND": "http"},
        {"SMS_BACKEND": "http", "SMS_GATEWAY_URL": "ftp://x"},
        {"SMS_TIMEOUT": "0"},
        {"REMINDER_CHANNELS": "sms,fax"},
    ],
)
def test_bad_settings_fail_at_start_with_the_variable_name(monkeypatch, env):
    import importlib

    import config.settings as module

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured) as error:
        importlib.reload(module)
    assert next(iter(env)) in str(error.value) or "SMS_GATEWAY_URL" in str(error.value)
    monkeypatch.undo()
    importlib.reload(module)


def test_masking():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+8613812345678") == "+86*******5678"
    assert mask_phone("12345") == "***45"
    assert mask_email("zhang.san@example.cn") == "z***@example.cn"


# --- The administrators' delivery log page ------------------------------------------------------


def _deliveries(org, count=3):
    for i in range(count):
        Delivery.objects.create(
            recipient=org.learner,
            channel=Channel.SMS,
            address=PHONE,
            body="温馨提示",
            dedupe_key=f"page-{i}",
            status=DeliveryStatus.FAILED,
            attempts=3,
            last_error="gateway error HTTP 503",
        )


def test_administrator_sees_the_log_with_masked_numbers(client, org):
    _deliveries(org)
    login_staff(client, org.administrator)

    response = client.get(reverse("notifications_delivery_log"), {"status": "failed"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "138****5678" in html and PHONE not in html
    assert "gateway error HTTP 503" in html
    assert AccessEvent.objects.filter(object_type="notifications.delivery").exists()


@pytest.mark.parametrize("role", ["officer", "counselor", "lecturer", "editor"])
def test_other_staff_are_refused_the_log(client, org, role):
    _deliveries(org)
    login_staff(client, getattr(org, role))

    response = client.get(reverse("notifications_delivery_log"))

    assert response.status_code in (302, 403)
    assert PHONE not in response.content.decode()
    assert AccessEvent.objects.filter(action="denied").exists()


@pytest.mark.parametrize("role", ["learner", "outsider"])
def test_non_staff_go_to_sign_in(client, org, role):
    client.force_login(getattr(org, role))
    response = client.get(reverse("notifications_delivery_log"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_log_page_has_a_fixed_number_of_queries(client, org, django_assert_max_num_queries):
    login_staff(client, org.administrator)
    _deliveries(org, 2)
    client.get(reverse("notifications_delivery_log"))  # warm caches (menu, site)
    # Session, user, roles, two-factor, menu, scope, count, page and the access-log write.
    with django_assert_max_num_queries(19) as few:
        client.get(reverse("notifications_delivery_log"))
    more = [
        Delivery(
            recipient=org.other_learner,
            channel=Channel.EMAIL,
            address="a@b.cn",
            body="x",
            dedupe_key=f"more-{i}",
        )
        for i in range(30)
    ]
    Delivery.objects.bulk_create(more)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("notifications_delivery_log"))
