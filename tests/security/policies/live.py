"""Live lectures (live/urls.py)."""

from __future__ import annotations

from tests.security.matrix import BAD, METHOD, Rule, roles

RULES = [
    # ---- live (webhooks)
    # Jitsi's servers post here, never a browser: no role changes anything. The secrets are set
    # for this module by ``live_webhook_secrets`` below (unset, both would answer 503 "not
    # configured", which the matrix counts as 5xx). An empty POST has no signature / token:
    # JaaS answers 400, prosody 401 with ``WWW-Authenticate: Bearer``; nothing is stored.
    Rule(name="live_hook_jaas", get=roles(everyone=METHOD), post=roles(everyone=BAD)),
    Rule(name="live_hook_prosody", get=roles(everyone=METHOD), post=roles(everyone="http 401")),
]
