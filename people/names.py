"""A person's name shown to someone who may not see all of it. Pure text, no database.

Two readers, two rules, on purpose:

- ``mask_name``: whoever checks a certificate on the public verification page holds the
  printed certificate and compares the name on it; they see its first and last character
  and its length (张三明 → 张*明), enough to tell it is the same name, not enough to learn it.
- ``mask_name_for_peers``: other persons under supervision in the same lecture (the video
  room's display name, the live roster) learn nothing but the first character, the family
  name (张三明 → 张**); the stars stop at three, so a long name's length does not show.
"""

from __future__ import annotations


def mask_name(name: str) -> str:
    """Hide a name but its first and last character: 张三明 → 张*明, 张三 → 张*, 欧阳小明 → 欧**明.

    Spaces are dropped so that the length of a given name does not show."""
    chars = [c for c in name if not c.isspace()]
    if len(chars) <= 1:
        return "*"
    if len(chars) == 2:
        return chars[0] + "*"
    return chars[0] + "*" * (len(chars) - 2) + chars[-1]


def mask_name_for_peers(name: str) -> str:
    """What other participants see of an attendee: the first character, the rest masked
    (张三 → 张*), so supervised persons do not learn each other's full names."""
    name = (name or "").strip()
    return name[:1] + "*" * min(len(name) - 1, 3) if name else "*"
