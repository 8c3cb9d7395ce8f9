"""Activation codes: how a supervised person without a password gets into the platform.

Imported persons (``do_import_roster``) have no usable password. At check-in (报到) their
officer issues a one-time code; the person opens the activation page on their phone, types
their login name (or mobile number) and the code, and chooses a password.

The rules:

1. A code is ``CODE_DIGITS`` (8) random digits, valid for ``VALIDITY`` (72 hours) and usable
   once. Only ``hash_code(code)`` (an HMAC keyed by ``SECRET_KEY``) is stored; the code itself
   is shown once to the officer, printed in a QR code and, where SMS is configured, texted to
   the person (the delivery log keeps the text with the code masked).
2. A person has at most one open code: issuing a new one voids the others (a database
   constraint holds this too). Reissuing for a person who already has a password is how a lost
   password is reset: the old password works until the new code is used.
3. A wrong code counts against the person's live code; after ``MAX_ATTEMPTS`` (5) wrong tries
   the code is void and the officer must issue a new one. An unknown login and a wrong code
   get the same answer, so the page does not tell who has an account.
4. A right code that is used, expired or replaced gets a message saying so; nothing changes.
5. Activation sets the password (Django's password validators, for that user) and marks the
   code used, in one transaction under a row lock, so a code cannot be used twice.

Issuing and using codes are written to the access log by the views.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from notifications.models import Channel
from notifications.senders import do_deliver, get_sender
from people.models import ActivationCode, Person, User, VoidReason

CODE_DIGITS = 8
VALIDITY = timedelta(hours=72)
MAX_ATTEMPTS = 5
_SEPARATORS = re.compile(r"[\s\-–—_.]+")
_HASH_SALT = "people.activation.code"


class ActivationError(Exception):
    """The code cannot be used; ``str(error)`` is the message for the person."""


def normalise_code(code: str) -> str:
    """What the person typed, minus spaces and dashes (the code is shown as ``1234 5678``);
    full-width digits from a Chinese keyboard count as digits."""
    text = _SEPARATORS.sub("", str(code or ""))
    return "".join(str(int(ch)) if ch.isdecimal() else ch for ch in text)


def normalise_phone(text: str) -> str:
    """A mobile number as typed (``138 1234 5678``, ``138-1234-5678``) → ``13812345678``."""
    return _SEPARATORS.sub("", str(text or ""))


def hash_code(code: str) -> str:
    return salted_hmac(_HASH_SALT, normalise_code(code), algorithm="sha256").hexdigest()


def format_code(code: str) -> str:
    return f"{code[:4]} {code[4:]}"


def new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


def activation_path(login: str = "", code: str = "") -> str:
    """The activation page, with the login name and code filled in when given."""
    query = {key: value for key, value in (("login", login), ("code", code)) if value}
    path = reverse("activate")
    return f"{path}?{urlencode(query)}" if query else path


# --- Issuing -----------------------------------------------------------------------------------


@transaction.atomic
def do_issue_activation_code(
    person: Person, *, issued_by: User | None
) -> tuple[ActivationCode, str]:
    """Void the person's open codes and issue a new one; returns the row and the plain code.

    The plain code exists only in the return value: show it once, never store it."""
    Person.objects.select_for_update().filter(pk=person.pk).first()  # serialise issuers
    now = timezone.now()
    ActivationCode.objects.filter(person=person).open().update(
        voided_at=now, void_reason=VoidReason.REISSUED
    )
    code = new_code()
    row = ActivationCode.objects.create(
        person=person,
        code_hash=hash_code(code),
        issued_by=issued_by,
        created_at=now,
        expires_at=now + VALIDITY,
    )
    return row, code


def sms_is_configured() -> bool:
    return get_sender(Channel.SMS) is not None


def do_send_activation_sms(row: ActivationCode, code: str, url: str, masked_url: str):
    """Text the person the link and code (once per code). Returns the ``Delivery`` (its status
    says sent, failed or skipped for want of a number), or ``None`` when SMS is off.

    The delivery log keeps the text with the code masked (``log_body``). Call it outside a
    transaction: the gateway may be slow."""
    with translation.override(settings.LANGUAGE_CODE):
        hours = int(VALIDITY.total_seconds() // 3600)
        text = _(
            "Hello. Open this link on your phone to set your password for the community "
            "corrections platform: %(url)s Your activation code is %(code)s. It works once, "
            "for %(hours)s hours. Do not share it with anyone."
        )
        body = text % {"url": url, "code": format_code(code), "hours": hours}
        log_body = text % {"url": masked_url, "code": "**** ****", "hours": hours}
    return do_deliver(
        row.person.user,
        channel=Channel.SMS,
        body=body,
        log_body=log_body,
        dedupe_key=f"activation:{row.pk}",
    )


# --- Using a code ------------------------------------------------------------------------------


def _candidates(login: str):
    """Persons whose login name is ``login`` (usernames may hold dashes and dots, as the
    roster import's ``sf-2026-0001`` does) or whose mobile number it is."""
    login = str(login or "").strip()
    if not login:
        return Person.objects.none()
    match = Q(user__username__iexact=login)
    if phone := normalise_phone(login):
        match |= Q(phone=phone)
    return Person.objects.filter(match, user__is_active=True)


def _wrong_code_message() -> str:
    return _(
        "The login name or the activation code is not right. Please check both and try "
        "again. After %(n)s wrong tries the code stops working."
    ) % {"n": MAX_ATTEMPTS}


def _too_many_message() -> str:
    return _(
        "This activation code was entered wrongly too many times and no longer works. "
        "Please ask your justice office for a new code."
    )


def check_activation_code(login: str, code: str) -> ActivationCode:
    """The live code of the person with this login name (or mobile number) matching ``code``.

    Raises ``ActivationError`` with a message for the person otherwise. A wrong code is
    counted against the person's live code (rule 3); nothing else changes."""
    persons = list(_candidates(login).values_list("pk", flat=True))
    digest = hash_code(code)
    now = timezone.now()
    if persons and normalise_code(code):
        matching = ActivationCode.objects.filter(person_id__in=persons, code_hash=digest)
        for row in matching.order_by("-created_at"):
            if not constant_time_compare(row.code_hash, digest):
                continue
            if row.used_at is not None:
                raise ActivationError(
                    _(
                        "This activation code has already been used. If you have forgotten "
                        "your password, please ask your justice office for a new code."
                    )
                )
            if row.void_reason == VoidReason.ATTEMPTS:
                raise ActivationError(_too_many_message())
            if row.voided_at is not None:
                raise ActivationError(
                    _(
                        "A newer activation code has been issued for you, so this one no "
                        "longer works. Please use the newest code."
                    )
                )
            if row.expires_at <= now:
                raise ActivationError(
                    _(
                        "This activation code has expired (codes work for %(hours)s hours). "
                        "Please ask your justice office for a new one."
                    )
                    % {"hours": int(VALIDITY.total_seconds() // 3600)}
                )
            return row
    if persons:
        _count_wrong_try(persons, now)
    raise ActivationError(_wrong_code_message())


def _count_wrong_try(person_ids: list[int], now) -> None:
    with transaction.atomic():
        live = ActivationCode.objects.select_for_update().filter(person_id__in=person_ids).live(now)
        live.update(failed_attempts=F("failed_attempts") + 1)
        live.filter(failed_attempts__gte=MAX_ATTEMPTS).update(
            voided_at=now, void_reason=VoidReason.ATTEMPTS
        )


@dataclass(frozen=True)
class Activation:
    user: User
    code: ActivationCode


@transaction.atomic
def do_activate(row: ActivationCode, password: str) -> Activation:
    """Set the person's password and use up the code; the code is re-checked under a lock.

    Validate ``password`` first (``validate_password(password, user)``)."""
    row = ActivationCode.objects.select_for_update().select_related("person__user").get(pk=row.pk)
    if not row.is_live():
        raise ActivationError(
            _("This activation code can no longer be used. Please ask your justice office.")
        )
    user = row.person.user
    user.set_password(password)
    user.save(update_fields=["password"])
    row.used_at = timezone.now()
    row.save(update_fields=["used_at"])
    return Activation(user=user, code=row)


# --- What the person's admin page shows ---------------------------------------------------------


@dataclass(frozen=True)
class ActivationStatus:
    has_password: bool
    live_code: ActivationCode | None
    last_used: ActivationCode | None


def activation_status(person: Person) -> ActivationStatus:
    codes = list(person.activation_codes.select_related("issued_by")[:20])
    now = timezone.now()
    return ActivationStatus(
        has_password=person.user.has_usable_password(),
        live_code=next((c for c in codes if c.is_live(now)), None),
        last_used=next((c for c in codes if c.used_at is not None), None),
    )


def awaiting_activation_code(user, now=None) -> QuerySet[Person]:
    """Active persons ``user`` sees (``Person.objects.visible_to``) who cannot sign in yet: no
    usable password and no code they could still activate with. Officers hand each one a
    code at check-in; oldest supervision start first."""
    live = ActivationCode.objects.live(now).filter(person=OuterRef("pk"))
    return (
        Person.objects.visible_to(user)
        .active()
        .filter(user__password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .exclude(Exists(live))
        .order_by("supervision_start", "case_number", "pk")
    )
