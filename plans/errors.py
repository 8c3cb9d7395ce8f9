"""What a plan service refuses with; every lifecycle module raises these."""

from __future__ import annotations


class PlanError(Exception):
    """A request that cannot be carried out; ``str()`` is a clear, user-facing reason."""


class StaleRevision(PlanError):
    """The plan changed since the editor loaded it; the edit was not saved."""
