"""Personal-data services: the privacy notice, its acknowledgement, and the subject-access
export.

Naming follows the house contract (``access_*`` / ``check_*`` / ``do_*``, see
``people/services.py``). The export is assembled from the collectors listed in
``PERSON_DATA_COLLECTORS``; each app that stores data about a person adds its own collector
there, the way ``seed_demo`` gathers ``DEMO_SEEDERS``.
"""

from __future__ import annotations

import datetime as dt
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from audit.models import AccessEvent
from audit.services import client_ip
from people.models import Caseload, Person, PrivacyAcknowledgement, PrivacyNotice

EXPORT_FORMAT_VERSION = 1

# Each collector takes a Person and returns a dict of top-level sections for the export.
# Later apps (learning, live, assessments, plans) append theirs; section names must be unique.
PERSON_DATA_COLLECTORS: list[str] = [
    "people.privacy.collect_people_data",
    "people.privacy.collect_privacy_data",
    "people.privacy.collect_access_events",
    "assessments.services.collect_assessment_data",
    "learning.services.collect_learning_data",
    "live.services.collect_live_data",
    "learning.certificates.collect_certificate_data",
    "plans.export.collect_plan_data",
]


# --- Notice and acknowledgement ---------------------------------------------------------------


def current_notice() -> PrivacyNotice | None:
    """The highest published version of the notice, or ``None`` if none is published yet."""
    return (
        PrivacyNotice.objects.filter(published_at__lte=timezone.now()).order_by("-version").first()
    )


def person_of(user) -> Person | None:
    """The supervised person who signs in as ``user``; ``None`` for staff and anonymous users."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return Person.objects.filter(user=user).select_related("office").first()


def acknowledgement_of(person: Person, notice: PrivacyNotice | None = None):
    """The person's acknowledgement of ``notice`` (default: the current one), or ``None``."""
    notice = notice or current_notice()
    if notice is None:
        return None
    return PrivacyAcknowledgement.objects.filter(person=person, notice=notice).first()


def has_acknowledged(person: Person) -> bool:
    """Whether ``person`` has acknowledged the current notice.

    Fails closed: with no published notice there is nothing the person could have read, so
    the answer is ``False`` and ``require_privacy_ack`` keeps them out of sensitive steps."""
    notice = current_notice()
    if notice is None:
        return False
    return PrivacyAcknowledgement.objects.filter(person=person, notice=notice).exists()


def do_acknowledge(person: Person, request=None, notice: PrivacyNotice | None = None):
    """Record that ``person`` has read ``notice`` (default: the current one). Idempotent: a
    second call returns the first acknowledgement unchanged."""
    notice = notice or current_notice()
    if notice is None:
        raise PrivacyNotice.DoesNotExist("no privacy notice is published")
    try:
        with transaction.atomic():
            acknowledgement, _ = PrivacyAcknowledgement.objects.get_or_create(
                person=person,
                notice=notice,
                defaults={"ip": client_ip(request), "acknowledged_at": timezone.now()},
            )
    except IntegrityError:  # a concurrent request won the race
        acknowledgement = PrivacyAcknowledgement.objects.get(person=person, notice=notice)
    return acknowledgement


def privacy_url(next_path: str | None = None) -> str:
    url = reverse("privacy_notice")
    if next_path:
        url = f"{url}?{urlencode({'next': next_path})}"
    return url


def require_privacy_ack(view):
    """Send a supervised person who has not acknowledged the current notice to ``/privacy/``
    (with ``?next=`` back to this page) before the view runs.

    Users without a ``Person`` (staff, anonymous) pass through untouched: combine with the
    view's own sign-in and permission checks."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        person = person_of(request.user)
        if person is not None and not has_acknowledged(person):
            return redirect(privacy_url(request.get_full_path()))
        return view(request, *args, **kwargs)

    return wrapped


# --- Subject-access export --------------------------------------------------------------------


def _when(value: dt.datetime | None) -> str | None:
    return None if value is None else timezone.localtime(value).isoformat()


def _day(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _name(user) -> str | None:
    return None if user is None else user.get_full_name()


def collect_people_data(person: Person) -> dict[str, Any]:
    """Profile, account (never the password hash), office, case officer, counselors."""
    user = person.user
    office = person.office
    officer = person.case_officer
    caseloads = list(
        Caseload.objects.filter(person=person).select_related("counselor").order_by("since", "pk")
    )
    return {
        "profile": {
            "id": person.pk,
            "case_number": person.case_number,
            "full_name": person.full_name,
            "category": person.category,
            "category_display": str(person.get_category_display()),
            "supervision_start": _day(person.supervision_start),
            "supervision_end": _day(person.supervision_end),
            "status": person.status,
            "status_display": str(person.get_status_display()),
            "created_at": _when(person.created_at),
            "updated_at": _when(person.updated_at),
        },
        "account": {
            "username": user.get_username(),
            "name": user.name,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "is_active": user.is_active,
            "has_usable_password": user.has_usable_password(),
            "date_joined": _when(user.date_joined),
            "last_login": _when(user.last_login),
            "groups": sorted(user.groups.values_list("name", flat=True)),
        },
        "office": {
            "name": office.name,
            "code": office.code,
            "kind": office.kind,
            "within": [ancestor.name for ancestor in office.get_ancestors()],
        },
        "case_officer": None if officer is None else {"name": _name(officer)},
        "counselors": [{"name": _name(c.counselor)} for c in caseloads],
        # Caseload rows are deleted when a counselor hands a person over, so this is the
        # history as the platform still holds it.
        "caseload_history": [
            {"counselor": _name(c.counselor), "since": _day(c.since)} for c in caseloads
        ],
    }


def collect_privacy_data(person: Person) -> dict[str, Any]:
    acknowledgements = PrivacyAcknowledgement.objects.filter(person=person).select_related("notice")
    return {
        "privacy_acknowledgements": [
            {
                "notice_version": a.notice.version,
                "notice_title": a.notice.title,
                "acknowledged_at": _when(a.acknowledged_at),
                "ip": a.ip,
            }
            for a in acknowledgements.order_by("acknowledged_at", "pk")
        ]
    }


def collect_access_events(person: Person) -> dict[str, Any]:
    """Every access-log event concerning the person: who looked, exported or was denied."""
    events = AccessEvent.objects.filter(person_id=person.pk).order_by("id")
    return {
        "access_events": [
            {
                "id": e.pk,
                "at": _when(e.at),
                "user": e.username,
                "role": e.role,
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "ip": e.ip,
                "success": e.success,
                "detail": e.detail,
            }
            for e in events.iterator(chunk_size=2000)
        ]
    }


def collect_person_data(person: Person) -> dict[str, Any]:
    """Everything the platform holds about ``person``, as JSON-ready data.

    The caller is responsible for scoping (``access_person_for_user``) and for logging the
    export; this function only reads."""
    data: dict[str, Any] = {
        "export": {
            "format_version": EXPORT_FORMAT_VERSION,
            "generated_at": _when(timezone.now()),
            "person_id": person.pk,
            "sections": [],
        }
    }
    for dotted in PERSON_DATA_COLLECTORS:
        sections = import_string(dotted)(person)
        for name, value in sections.items():
            if name in data:
                raise ValueError(f"{dotted} returned section {name!r}, which already exists")
            data[name] = value
            data["export"]["sections"].append(name)
    return data
