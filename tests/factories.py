"""Named users and a small organisation shared by every test.

Bureau ``bureau`` has two justice offices, ``east`` and ``west``.
- ``learner`` (east) and ``other_learner`` (west) are supervised persons;
- ``counselor`` has ``learner`` in caseload; ``other_counselor`` has ``other_learner``;
- ``officer`` works in east and is learner's case officer; ``other_officer`` works in west;
- ``administrator`` works at the bureau; ``lecturer`` gives lectures;
- ``editor`` reviews and publishes course pages;
- ``outsider`` is signed in but holds no role.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from people.models import Caseload, Category, Office, OfficeKind, Person, User
from people.roles import Role
from people.twofactor import needs_two_factor

PASSWORD = "Test-pass-2026!"
_counter = itertools.count(1)


def make_user(username: str | None = None, role: str | None = None, office=None, **extra) -> User:
    username = username or f"user{next(_counter)}"
    user = User.objects.create_user(
        username=username, password=PASSWORD, name=extra.pop("name", username), **extra
    )
    if office is not None:
        user.office = office
        user.save(update_fields=["office"])
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def make_totp_device(user: User) -> TOTPDevice:
    """The user's confirmed authenticator-app device (created once, then reused)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def login_staff(client, user: User) -> None:
    """Sign ``user`` in on the test client, past two-factor authentication when staff.

    Use it instead of ``client.force_login(user)`` whenever a test opens ``/admin/`` or
    ``/django-admin/``: staff get a confirmed TOTP device and a session marked as verified.
    Learners and users without a role are only signed in (they never need a second step).
    """
    client.force_login(user)
    if needs_two_factor(user):
        device = make_totp_device(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()


def make_person(
    office: Office,
    user: User | None = None,
    case_officer: User | None = None,
    counselors: tuple[User, ...] = (),
    category: str = Category.NORMAL,
    case_number: str | None = None,
) -> Person:
    number = next(_counter)
    user = user or make_user(f"person{number}", Role.LEARNER)
    start = dt.date(2026, 1, 1)
    person = Person.objects.create(
        user=user,
        case_number=case_number or f"CASE-{number:05d}",
        full_name=user.name,
        office=office,
        category=category,
        supervision_start=start,
        supervision_end=start + dt.timedelta(days=365),
        case_officer=case_officer,
    )
    for counselor in counselors:
        Caseload.objects.create(person=person, counselor=counselor)
    return person


@dataclass
class Org:
    bureau: Office
    east: Office
    west: Office
    administrator: User
    officer: User
    other_officer: User
    counselor: User
    other_counselor: User
    lecturer: User
    editor: User
    learner: User
    other_learner: User
    outsider: User
    person: Person
    other_person: Person


def make_org() -> Org:
    bureau = Office.add_root(name="测试区司法局", code="test-bureau", kind=OfficeKind.BUREAU)
    east = bureau.add_child(name="东司法所", code="east", kind=OfficeKind.OFFICE)
    bureau.refresh_from_db()
    west = bureau.add_child(name="西司法所", code="west", kind=OfficeKind.OFFICE)
    administrator = make_user("administrator", Role.ADMINISTRATOR, office=bureau)
    officer = make_user("officer", Role.OFFICER, office=east)
    other_officer = make_user("other_officer", Role.OFFICER, office=west)
    counselor = make_user("counselor", Role.COUNSELOR, office=bureau)
    other_counselor = make_user("other_counselor", Role.COUNSELOR, office=bureau)
    lecturer = make_user("lecturer", Role.LECTURER)
    editor = make_user("editor", Role.EDITOR, office=bureau)
    learner = make_user("learner", Role.LEARNER, name="张三")
    other_learner = make_user("other_learner", Role.LEARNER, name="李四")
    outsider = make_user("outsider")
    person = make_person(east, learner, case_officer=officer, counselors=(counselor,))
    other_person = make_person(
        west, other_learner, case_officer=other_officer, counselors=(other_counselor,)
    )
    return Org(
        bureau=bureau,
        east=east,
        west=west,
        administrator=administrator,
        officer=officer,
        other_officer=other_officer,
        counselor=counselor,
        other_counselor=other_counselor,
        lecturer=lecturer,
        editor=editor,
        learner=learner,
        other_learner=other_learner,
        outsider=outsider,
        person=person,
        other_person=other_person,
    )
