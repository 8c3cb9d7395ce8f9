"""Caseload listing: ``Person.objects.visible_to()`` (one query) against a naive loop that
checks every person's counselors in Python (what a view without a scoped QuerySet does)."""

from __future__ import annotations

import datetime as dt

from bench.common import best_of

PERSONS = 3000
CASELOAD = 150


def _setup():
    from django.contrib.auth.models import Group

    from people.models import Caseload, Office, Person, User

    if Person.objects.filter(case_number__startswith="BENCH-").exists():
        return User.objects.get(username="bench-counselor"), User.objects.get(
            username="bench-officer"
        )
    bureau = Office.add_root(name="bench bureau", code="bench-bureau", kind="bureau")
    offices = []
    for i in range(10):
        bureau.refresh_from_db()
        offices.append(bureau.add_child(name=f"bench office {i}", code=f"bench-{i}"))
    counselor = User.objects.create(username="bench-counselor")
    counselor.groups.add(Group.objects.get(name="counselor"))
    officer = User.objects.create(username="bench-officer", office=offices[0])
    officer.groups.add(Group.objects.get(name="officer"))
    users = User.objects.bulk_create([User(username=f"bench-l{i}") for i in range(PERSONS)])
    start = dt.date(2026, 1, 1)
    persons = Person.objects.bulk_create(
        [
            Person(
                user=u,
                case_number=f"BENCH-{i:05d}",
                full_name=f"p{i}",
                office=offices[i % 10],
                category="normal",
                supervision_start=start,
                supervision_end=start + dt.timedelta(days=365),
            )
            for i, u in enumerate(users)
        ]
    )
    Caseload.objects.bulk_create(
        [Caseload(person=p, counselor=counselor) for p in persons[:: PERSONS // CASELOAD]]
    )
    return counselor, officer


def run() -> list[dict]:
    from people.models import Person

    counselor, officer = _setup()

    def ours_counselor():
        rows = list(Person.objects.visible_to(counselor).select_related("office"))
        assert len(rows) == CASELOAD, len(rows)
        return [r.office.name for r in rows]

    def naive_counselor():
        rows = [p for p in Person.objects.all() if p.counselors.filter(pk=counselor.pk).exists()]
        assert len(rows) == CASELOAD, len(rows)
        return [r.office.name for r in rows]

    def ours_officer():
        return [p.office.name for p in Person.objects.visible_to(officer).select_related("office")]

    def naive_officer():
        mine = officer.office.get_descendants() | type(officer.office).objects.filter(
            pk=officer.office.pk
        )
        ids = set(mine.values_list("pk", flat=True))
        return [p.office.name for p in Person.objects.all() if p.office.pk in ids]

    return [
        {
            "name": f"counselor caseload ({CASELOAD} of {PERSONS})",
            "ours": best_of(ours_counselor),
            "naive": best_of(naive_counselor, repeat=1),
            "note": "1 query vs N+1",
        },
        {
            "name": f"officer office subtree ({PERSONS // 10} of {PERSONS})",
            "ours": best_of(ours_officer),
            "naive": best_of(naive_officer, repeat=1),
        },
    ]
