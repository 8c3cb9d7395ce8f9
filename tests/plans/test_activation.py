"""Approval puts each kind of intervention in place through one table."""

from __future__ import annotations

from plans.activation import ACTIVATORS
from plans.schema import InterventionKind


def test_every_intervention_kind_has_an_activator():
    assert set(ACTIVATORS) == set(InterventionKind.values)
