"""Text messages and email, through pluggable senders, with every attempt in the delivery log.

A sender has one method, ``send(delivery) -> provider id``: one attempt to hand the message
of a ``Delivery`` row to its channel. It raises ``SendError(retry=...)`` when that fails.
``do_deliver`` is what other apps call: it writes the row (once per ``(channel, dedupe_key)``,
so "not twice for the same thing on the same day" is a key with the date in it), then makes
up to ``sender.max_attempts`` attempts with exponential back-off, saving the row after each.

Senders are chosen by settings (``get_sender``; docs/deploy.md):

* SMS: ``SMS_BACKEND=console`` logs the message (development), ``http`` posts it to the
  gateway at ``SMS_GATEWAY_URL`` (``HttpSmsSender``), ``off`` sends nothing.
* Email: Django's mail (``EMAIL_BACKEND``; the console backend in development).
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable
from typing import Protocol

import requests
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.models import Channel, Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

ERROR_MAX = 300


class SendError(Exception):
    """One attempt failed; ``retry`` says whether another attempt may succeed."""

    def __init__(self, message: str, *, retry: bool):
        super().__init__(message)
        self.retry = retry


class Sender(Protocol):
    channel: str
    max_attempts: int
    backoff_seconds: float

    def send(self, delivery: Delivery) -> str: ...


# --- Masking (the delivery log shows addresses masked) ----------------------------------------


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``; short numbers keep only their last two digits."""
    phone = (phone or "").strip()
    if len(phone) >= 11:
        return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"
    if len(phone) > 2:
        return "*" * (len(phone) - 2) + phone[-2:]
    return "*" * len(phone)


def mask_email(email: str) -> str:
    """``zhang.san@example.cn`` → ``z***@example.cn``."""
    local, at, domain = (email or "").partition("@")
    if not at:
        return mask_phone(email)
    return f"{local[:1]}***@{domain}"


def mask_address(channel: str, address: str) -> str:
    return mask_email(address) if channel == Channel.EMAIL else mask_phone(address)


# --- Senders -----------------------------------------------------------------------------------


class ConsoleSender:
    """Development: writes the message to the log instead of sending it."""

    max_attempts = 1
    backoff_seconds = 0.0

    def __init__(self, channel: str = Channel.SMS):
        self.channel = channel

    def send(self, delivery: Delivery) -> str:
        logger.info(
            "%s to %s: %s %s",
            delivery.get_channel_display(),
            mask_address(delivery.channel, delivery.address),
            delivery.subject,
            delivery.body,
        )
        return f"console-{delivery.pk}"


class HttpSmsSender:
    """POST ``{"to", "text", "reference"}`` as JSON to an SMS gateway with
    ``Authorization: Bearer <api key>``; the gateway answers 2xx with ``{"message_id": …}``
    (or ``"id"``). 5xx, 429, timeouts and connection errors are worth another attempt; any
    other 4xx is not (the request itself is wrong: retrying cannot help)."""

    channel = Channel.SMS

    def __init__(
        self,
        url: str,
        api_key: str = "",
        *,
        timeout: float = 10,
        max_attempts: int = 3,
        backoff_seconds: float = 2,
        session: requests.Session | None = None,
    ):
        self.url = url
        self.api_key = api_key
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.session = session or requests.Session()

    def send(self, delivery: Delivery) -> str:
        headers = {"Idempotency-Key": f"delivery-{delivery.pk}"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        payload = {"to": delivery.address, "text": delivery.body, "reference": str(delivery.pk)}
        try:
            response = self.session.post(
                self.url, json=payload, headers=headers, timeout=self.timeout
            )
        except requests.Timeout:
            raise SendError(f"no answer within {self.timeout} s", retry=True) from None
        except requests.ConnectionError as exc:
            raise SendError(f"cannot reach the gateway: {type(exc).__name__}", retry=True) from exc
        except requests.RequestException as exc:
            raise SendError(f"request failed: {type(exc).__name__}", retry=False) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise SendError(f"gateway error HTTP {response.status_code}", retry=True)
        if response.status_code >= 400:
            raise SendError(
                f"gateway refused HTTP {response.status_code}: {response.text[:120]}", retry=False
            )
        try:
            data = response.json()
        except ValueError:
            data = {}
        message_id = (data.get("message_id") or data.get("id")) if isinstance(data, dict) else None
        return str(message_id or "")[:100]


class EmailSender:
    """Django's mail: ``EMAIL_BACKEND`` decides where it goes (console in development)."""

    channel = Channel.EMAIL
    max_attempts = 2
    backoff_seconds = 2.0

    def send(self, delivery: Delivery) -> str:
        message_id = make_msgid(domain="reminders.invalid")
        message = EmailMessage(
            subject=delivery.subject,
            body=delivery.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[delivery.address],
            headers={"Message-ID": message_id},
        )
        try:
            message.send(fail_silently=False)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, TimeoutError) as exc:
            raise SendError(f"mail server unavailable: {type(exc).__name__}", retry=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            reason = f"mail refused: {type(exc).__name__}: {exc}"[:ERROR_MAX]
            raise SendError(reason, retry=False) from exc
        return message_id.strip("<>")[:100]


def get_sender(channel: str) -> Sender | None:
    """The sender the settings choose for ``channel``; ``None`` when that channel is off."""
    if channel not in getattr(settings, "REMINDER_CHANNELS", ["sms", "email"]):
        return None
    if channel == Channel.EMAIL:
        return EmailSender()
    if channel == Channel.SMS:
        backend = getattr(settings, "SMS_BACKEND", "console")
        if backend == "console":
            return ConsoleSender(Channel.SMS)
        if backend == "http":
            return HttpSmsSender(
                settings.SMS_GATEWAY_URL,
                settings.SMS_API_KEY,
                timeout=settings.SMS_TIMEOUT,
                max_attempts=settings.SMS_MAX_ATTEMPTS,
                backoff_seconds=settings.SMS_BACKOFF_SECONDS,
            )
        return None
    raise ValueError(f"no sender for channel {channel!r}")


# --- Delivering ----------------------------------------------------------------------------------


def address_of(user, channel: str) -> str:
    """Where ``user`` gets messages on ``channel``: the person's mobile phone for SMS, the
    account's email for email; ``""`` when there is none."""
    if user is None:
        return ""
    if channel == Channel.EMAIL:
        return (user.email or "").strip()
    person = getattr(user, "person", None)  # the reverse one-to-one raises AttributeError
    return (getattr(person, "phone", "") or "").strip()


def do_deliver(
    user,
    *,
    channel: str,
    body: str,
    dedupe_key: str,
    subject: str = "",
    log_body: str | None = None,
    sender: Sender | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery | None:
    """Send ``body`` to ``user`` on ``channel`` once per ``dedupe_key``, and log it.

    Returns ``None`` when the channel is off or the key was used before (nothing sent);
    otherwise the ``Delivery``: ``skipped`` (no address), ``sent`` or ``failed``. Never raises
    for a failed send. Call it outside a transaction: the row is committed before the first
    attempt so a crash mid-way leaves a visible ``pending`` row, not a silent re-send.

    ``log_body``: when ``body`` holds a secret (an activation code), the text the log keeps
    instead; ``body`` is then only sent, never saved."""
    sender = sender or get_sender(channel)
    if sender is None:
        return None
    if Delivery.objects.filter(channel=channel, dedupe_key=dedupe_key).exists():
        return None
    address = address_of(user, channel)
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                recipient=user,
                channel=channel,
                address=address[:200],
                subject=subject[:200],
                body=body if log_body is None else log_body,
                dedupe_key=dedupe_key[:200],
                status=DeliveryStatus.PENDING if address else DeliveryStatus.SKIPPED,
            )
    except IntegrityError:
        return None  # a concurrent run took the key first
    if not address:
        return delivery
    delivery.body = body  # send_delivery saves only the outcome fields, never the body
    return send_delivery(delivery, sender, sleep=sleep)


def send_delivery(
    delivery: Delivery, sender: Sender, *, sleep: Callable[[float], None] = time.sleep
) -> Delivery:
    """Up to ``sender.max_attempts`` attempts, ``backoff_seconds`` × 2ⁿ apart, each saved to
    the row (attempts, last error, status); the last outcome stays."""
    for attempt in range(1, sender.max_attempts + 1):
        delivery.attempts += 1
        try:
            provider_id = sender.send(delivery)
        except SendError as exc:
            retry = exc.retry and attempt < sender.max_attempts
            delivery.last_error = str(exc)[:ERROR_MAX]
            delivery.status = DeliveryStatus.PENDING if retry else DeliveryStatus.FAILED
            delivery.save(update_fields=["attempts", "last_error", "status"])
            logger.warning(
                "delivery %s attempt %s failed: %s", delivery.pk, attempt, delivery.last_error
            )
            if not retry:
                return delivery
            sleep(sender.backoff_seconds * 2 ** (attempt - 1))
            continue
        except Exception as exc:  # a sender bug must not stop the other reminders
            logger.exception("delivery %s: sender crashed", delivery.pk)
            delivery.last_error = f"unexpected error: {type(exc).__name__}"[:ERROR_MAX]
            delivery.status = DeliveryStatus.FAILED
            delivery.save(update_fields=["attempts", "last_error", "status"])
            return delivery
        delivery.status = DeliveryStatus.SENT
        delivery.provider_id = provider_id
        delivery.sent_at = timezone.now()
        delivery.save(update_fields=["attempts", "status", "provider_id", "sent_at"])
        return delivery
    return delivery
