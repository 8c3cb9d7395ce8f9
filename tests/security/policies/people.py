"""People, roster import and the access log (people/wagtail_hooks.py, audit/wagtail_hooks.py)."""

from __future__ import annotations

from tests.security.matrix import (
    ACCEPT,
    FORBIDDEN,
    LOGIN,
    METHOD,
    OK,
    REFUSE,
    Rule,
    roles,
    scoped,
)


def _person(org) -> dict[str, str]:
    return {"pk": str(org.person.pk)}


RULES = [
    Rule(
        name="people_person_list",
        get=roles(non_staff=LOGIN, staff=OK),
        note="lecturer gets 200 with an empty list",
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
        name="audit_access_log",
        get=roles(non_staff=LOGIN, staff=FORBIDDEN, administrator=OK),
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
]

# Anonymous refused, every signed-in user accepted.
WS_POLICY = {"ws/me/": roles(anonymous=REFUSE, signed_in=ACCEPT)}
