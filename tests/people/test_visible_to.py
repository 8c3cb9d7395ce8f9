from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from people.models import Office, Person
from tests.factories import make_person, make_user

pytestmark = pytest.mark.django_db


def visible(user) -> set[str]:
    return set(Person.objects.visible_to(user).values_list("user__username", flat=True))


def test_learner_sees_only_self(org):
    assert visible(org.learner) == {"learner"}
    assert visible(org.other_learner) == {"other_learner"}


def test_counselor_sees_own_caseload_only(org):
    assert visible(org.counselor) == {"learner"}
    assert visible(org.other_counselor) == {"other_learner"}


def test_counselor_caseload_crosses_offices(org):
    extra = make_person(org.west, counselors=(org.counselor,))
    assert extra.user.username in visible(org.counselor)


def test_officer_sees_own_office_subtree(org):
    assert visible(org.officer) == {"learner"}
    assert visible(org.other_officer) == {"other_learner"}


def test_officer_sees_own_cases_in_other_offices(org):
    moved = make_person(org.west, case_officer=org.officer)
    assert moved.user.username in visible(org.officer)


def test_officer_sees_sub_offices(org):
    village = org.east.add_child(name="东村工作站", code="east-village")
    deep = make_person(village)
    assert deep.user.username in visible(org.officer)
    assert deep.user.username not in visible(org.other_officer)


def test_administrator_sees_own_bureau_only(org):
    assert visible(org.administrator) == {"learner", "other_learner"}
    other_bureau = Office.add_root(name="他区司法局", code="other-bureau")
    stranger = make_person(other_bureau.add_child(name="他所", code="other-office"))
    assert stranger.user.username not in visible(org.administrator)


def test_lecturer_sees_nobody(org):
    assert visible(org.lecturer) == set()


def test_outsider_and_anonymous_see_nobody(org):
    assert visible(org.outsider) == set()
    assert visible(AnonymousUser()) == set()


def test_disabled_user_sees_nobody(org):
    org.counselor.is_active = False
    org.counselor.save(update_fields=["is_active"])
    assert visible(org.counselor) == set()


def test_roles_combine_by_union(org):
    from django.contrib.auth.models import Group

    both = make_user("both", "counselor", office=org.west)
    both.groups.add(Group.objects.get(name="officer"))
    make_person(org.east, counselors=(both,), case_number="UNION-1")
    names = visible(both)
    assert "other_learner" in names  # west office, as officer
    assert Person.objects.get(case_number="UNION-1").user.username in names  # caseload


def test_visible_to_returns_no_duplicates(org):
    # learner is both in the officer's office and the officer's own case.
    assert Person.objects.visible_to(org.officer).count() == 1


def test_office_visibility(org):
    def offices(user):
        return set(Office.objects.visible_to(user).values_list("code", flat=True))

    assert offices(org.administrator) == {"test-bureau", "east", "west"}
    assert offices(org.officer) == {"east"}
    assert offices(org.counselor) == {"east"}
    assert offices(org.learner) == {"east"}
    assert offices(org.lecturer) == set()
    assert offices(org.outsider) == set()


def test_an_office_scope_asks_for_office_ids_not_a_join_on_every_person(org):
    """By office id the database uses the person's office index (joining the office's path
    scanned all persons: bench/bench_staff_pages.py); a justice office without offices
    below it is its own id, with no subquery either."""
    officer_sql = str(Person.objects.visible_to(org.officer).query)
    assert "people_office" not in officer_sql
    assert 'JOIN "people_office"' not in str(Person.objects.visible_to(org.administrator).query)
    village = org.east.add_child(name="东村工作站", code="east-village")
    org.officer.office.refresh_from_db()  # numchild is now 1
    deep = make_person(village)
    assert "people_office" in str(Person.objects.visible_to(org.officer).query)
    assert visible(org.officer) == {"learner", deep.user.username}
