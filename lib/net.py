"""The client's IP address, the same for the access log and login lockouts."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """``REMOTE_ADDR``, or behind a trusted proxy the header it sets (``CLIENT_IP_HEADER``,
    e.g. ``HTTP_X_REAL_IP``). A malformed value is ignored rather than trusted."""
    if request is None:
        return None
    meta = getattr(request, "META", {})
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    candidates = []
    if header:
        # X-Forwarded-For style lists: the proxy appends, so the last entry is its peer.
        candidates.append(str(meta.get(header, "")).split(",")[-1].strip())
    candidates.append(str(meta.get("REMOTE_ADDR", "")).strip())
    for value in candidates:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            continue
    return None
