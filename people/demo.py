"""Demo organisation and accounts for ``seed_demo``. Idempotent: safe to run repeatedly."""

from __future__ import annotations

import datetime as dt
import functools

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from people.models import Caseload, Category, Office, OfficeKind, Person, User
from people.roles import Role

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - published demo credential
BUREAU = ("示范区司法局", "bureau")
OFFICES = [("东城司法所", "dongcheng"), ("西城司法所", "xicheng"), ("南湖司法所", "nanhu")]
# Plain names: the role is shown beside them ("矫正工作人员: 李强"), never inside them.
STAFF = [
    ("admin", "王敏", Role.ADMINISTRATOR),
    ("officer1", "李强", Role.OFFICER),
    ("counselor1", "陈静", Role.COUNSELOR),
    ("lecturer1", "赵刚", Role.LECTURER),
    ("editor1", "孙丽", Role.EDITOR),
]
# Reviewers of the file's later rounds (``dossiers.demo``): round 2 is an officer of the
# person's office other than the case officer, rounds 3 and 4 two different administrators.
EXTRA_STAFF = [
    ("officehead1", "周华", Role.OFFICER),
    ("centre1", "吴红", Role.ADMINISTRATOR),
]
PERSON_COUNT = 30
# Persons released from supervision (officer1's office, officer1 their case officer), whose
# education-and-assistance files the demo shows at every stage (``dossiers.demo``): number →
# days between their release and the end of last month (negative: released this month).
# They never sign in (no usable password), as imported persons before their activation.
# Created active, as they were during the history; ``dossiers.demo`` marks them released.
RELEASED = {101: 75, 102: 45, 103: 10, 104: 5, 105: 0, 106: -1}
_SURNAMES = "张王李刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞"]
_CATEGORIES = [Category.NORMAL, Category.STRICT, Category.LENIENT]


def demo_person_name(number: int) -> str:
    return _SURNAMES[number % len(_SURNAMES)] + _GIVEN[(number * 7) % len(_GIVEN)]


# The last persons arrived recently; everyone else has been under supervision for over a
# year, so the demo shows twelve months of history (``cms.demo``).
NEW_ARRIVALS = {28: 100, 29: 70, 30: 40}  # learner number → days under supervision


def demo_supervision(number: int, today: dt.date) -> tuple[dt.date, dt.date]:
    """(start, end) of demo person ``number``'s supervision, relative to ``today``."""
    if number in NEW_ARRIVALS:
        start = today - dt.timedelta(days=NEW_ARRIVALS[number])
        return start, start + dt.timedelta(days=365)
    start = today - dt.timedelta(days=380 + 9 * number)
    return start, start + dt.timedelta(days=730 + 30 * (number % 7))


@functools.cache
def _demo_password_hash() -> str:
    # One hash for every demo account: hashing is slow on purpose, and 35 hashes of the
    # published demo password took most of the seed's time.
    return make_password(DEMO_PASSWORD)


def _user(username: str, name: str, role: str, office: Office | None) -> User:
    user, created = User.objects.get_or_create(username=username, defaults={"name": name})
    if created:
        user.password = _demo_password_hash()
    user.name = name
    user.office = office
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


@transaction.atomic
def seed_people(today: dt.date | None = None) -> list[tuple[str, str]]:
    """Create the demo bureau, offices, staff and persons; return (login, role) pairs."""
    today = today or dt.date.today()  # noqa: DTZ011 - a calendar date for demo periods
    bureau = Office.objects.filter(code=BUREAU[1]).first()
    if bureau is None:
        bureau = Office.add_root(name=BUREAU[0], code=BUREAU[1], kind=OfficeKind.BUREAU)
    offices = []
    for name, code in OFFICES:
        office = Office.objects.filter(code=code).first()
        if office is None:
            bureau.refresh_from_db()
            office = bureau.add_child(name=name, code=code, kind=OfficeKind.OFFICE)
        offices.append(office)

    logins: list[tuple[str, str]] = []
    staff = {}
    for username, name, role in STAFF:
        office = offices[0] if role == Role.OFFICER else bureau
        staff[role] = _user(username, name, role, office)
        logins.append((username, role))
    for username, name, role in EXTRA_STAFF:
        _user(username, name, role, offices[0] if role == Role.OFFICER else bureau)
        logins.append((username, role))
    admin = staff[Role.ADMINISTRATOR]
    if not admin.is_superuser:
        admin.is_superuser = True
        admin.is_staff = True
        admin.save(update_fields=["is_superuser", "is_staff"])

    per_office = PERSON_COUNT // len(offices)
    for number in range(1, PERSON_COUNT + 1):
        office = offices[(number - 1) // per_office]
        username = f"learner{number}"
        name = demo_person_name(number)
        user = _user(username, name, Role.LEARNER, None)
        start, end = demo_supervision(number, today)
        person, _ = Person.objects.update_or_create(
            case_number=f"SF-2026-{number:04d}",
            defaults={
                "user": user,
                "full_name": name,
                "office": office,
                "category": _CATEGORIES[number % 3],
                "supervision_start": start,
                "supervision_end": end,
                "case_officer": staff[Role.OFFICER] if office == offices[0] else None,
            },
        )
        # counselor1 looks after learners 1-15, across two offices: caseloads are not offices.
        if number <= 15:
            Caseload.objects.get_or_create(person=person, counselor=staff[Role.COUNSELOR])
        logins.append((username, Role.LEARNER))
    return logins


def released_case(number: int) -> str:
    return f"SF-2025-{number:04d}"


def released_supervision(number: int, today: dt.date) -> tuple[dt.date, dt.date]:
    """(start, end) of released person ``number``: from the first month of the demo's twelve
    months of history to their release (``RELEASED``; 106 was released yesterday)."""
    start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    for _month in range(11):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    days = RELEASED[number]
    end = today - dt.timedelta(days=1) if days < 0 else last_month_end - dt.timedelta(days=days)
    return start, end


@transaction.atomic
def seed_released_people(today: dt.date | None = None) -> list[tuple[str, str]]:
    """The released persons (``RELEASED``), officer1's cases in 东城司法所; they sign in to
    nothing. ``seed_demo`` runs this after the lectures of this month and last week, whose
    audiences they were no longer in, and before the history of their months."""
    today = today or dt.date.today()  # noqa: DTZ011 - a calendar date for demo periods
    office = Office.objects.filter(code=OFFICES[0][1]).first()
    officer = User.objects.filter(username="officer1").first()
    if office is None or officer is None:
        return []
    for number in RELEASED:
        username = f"released{number - 100}"
        user = User.objects.filter(username=username).first()
        name = demo_person_name(number)
        if user is None:
            user = User(username=username, name=name)
            user.set_unusable_password()
            user.save()
            user.groups.add(Group.objects.get(name=Role.LEARNER))
        start, end = released_supervision(number, today)
        Person.objects.update_or_create(
            case_number=released_case(number),
            defaults={
                "user": user,
                "full_name": name,
                "office": office,
                "category": Category.LENIENT,
                "supervision_start": start,
                "supervision_end": end,
                "case_officer": officer,
            },
        )
    return []
