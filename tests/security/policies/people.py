"""People, roster import and the access log (people/wagtail_hooks.py, audit/wagtail_hooks.py)."""

from __future__ import annotations

from people.models import User
from people.roles import Role
from tests.factories import make_totp_device, make_user
from tests.security.matrix import (
    ACCEPT,
    BAD,
    FORBIDDEN,
    LOGIN,
    METHOD,
    OK,
    REDIRECT,
    REFUSE,
    Rule,
    roles,
    scoped,
)

# Activation codes are issued by officers, for persons in their scope only (README "Roles").
ISSUERS = {"officer", "other_officer"}


def _person(org) -> dict[str, str]:
    return {"pk": str(org.person.pk)}


def _spare_staff(org) -> dict[str, str]:
    """A lecturer with an authenticator whom no matrix role signs in as: resetting their
    device must not end the session of a role still being checked."""
    spare = User.objects.filter(username="spare_lecturer").first()
    if spare is None:
        spare = make_user("spare_lecturer", Role.LECTURER)
    make_totp_device(spare)
    return {"pk": str(spare.pk)}


RULES = [
    Rule(
        name="people_person_list",
        get=roles(non_staff=LOGIN, staff=OK),
        note="lecturer gets 200 with an empty list",
    ),
    Rule(
        name="people_person_list_results",
        get=roles(non_staff=LOGIN, staff=OK),
        note="the list's results alone (Wagtail's filters and search refresh them)",
    ),
    Rule(name="people_person_detail", params=_person, get=scoped("person")),
    Rule(
        name="people_person_export",
        params=_person,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=scoped("person", perm={"administrator"}),
    ),
    Rule(
        name="people_roster_import",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
    ),
    Rule(
        name="people_activation_issue",
        params=_person,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=scoped("person", perm=ISSUERS),
    ),
    Rule(
        name="activate",
        get=roles(everyone=OK),
        post=roles(everyone=BAD),
        note="public: the person has no password yet; an empty form answers 400",
    ),
    Rule(
        name="people_staff_list",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
    ),
    Rule(
        name="people_staff_list_results",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        note="the list's results alone (Wagtail's filters and search refresh them)",
    ),
    Rule(
        name="people_staff_detail",
        params=_spare_staff,
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
    ),
    Rule(
        name="people_staff_reset_two_factor",
        params=_spare_staff,
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=REDIRECT),
        note="administrators only, no superuser needed",
    ),
    Rule(
        name="audit_access_log",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
    ),
    Rule(
        name="audit_access_log_results",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
        note="the log's results alone (Wagtail's filters and search refresh them)",
    ),
    Rule(
        name="audit_access_log_export",
        get=roles(non_staff=LOGIN, staff=METHOD),
        post=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
    ),
]

OBJECT_PROBES = [
    ("people_person_detail", "get", lambda obj: scoped(obj)),
    ("people_person_export", "post", lambda obj: scoped(obj, perm={"administrator"})),
    ("people_activation_issue", "post", lambda obj: scoped(obj, perm=ISSUERS)),
]

# Anonymous refused, every signed-in user accepted.
WS_POLICY = {"ws/me/": roles(anonymous=REFUSE, signed_in=ACCEPT)}
