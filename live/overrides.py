"""Who may change a lecture's attendance after the fact: an override, or a door mark once
check-in has closed (``live.centre.may_mark``). README "Roles": officers, with a reason."""

from __future__ import annotations

from people.roles import Role, roles_of


def may_override_attendance(user) -> bool:
    """Officers with the permission (README "Roles": officers may override with a reason);
    not the lecture's lecturer, who sees their lecture's attendance and changes none of it,
    and not an administrator, superuser or not (the demo's ``admin`` is both): overrides are
    the officers'. Which rows: ``live.services.may_override``."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if not user.has_perm("live.change_attendance"):
        return False
    return Role.OFFICER in roles_of(user)
