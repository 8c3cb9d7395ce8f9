"""What a plan service refuses with; every lifecycle module raises these."""

from __future__ import annotations


class PlanError(Exception):
    """A request that cannot be carried out; ``str()`` is a clear, user-facing reason.
    ``field`` names the edit form's field it concerns, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StaleRevision(PlanError):
    """The plan changed since the editor loaded it; the edit was not saved."""
