"""The home's "who to contact" card always has a case-officer row: the officer's name, or,
for a newly arrived person with no officer yet, whom to ask instead (found in a walk-through:
a new arrival's card had no officer row at all)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_card_names_the_case_officer(client, org):
    client.force_login(org.learner)
    text = client.get("/").text
    assert "矫正工作人员" in text
    assert f'data-testid="case-officer">{org.officer.get_full_name()}</dd>' in text


def test_a_person_without_an_officer_is_told_to_ask_their_justice_office(client, org):
    org.person.case_officer = None
    org.person.save(update_fields=["case_officer"])
    client.force_login(org.learner)
    text = client.get("/").text
    assert "矫正工作人员" in text
    assert 'data-testid="case-officer-none"' in text
    assert f"还没有为您指定。有任何事情，请联系{org.east.name}" in text
