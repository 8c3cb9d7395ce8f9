"""``learning.timing.credit(beats, expected)``: the contract name of the study-time rule.

The rule lives in ``participation.crediting`` (a layer below ``learning`` and ``live``,
which both credit heartbeats); this module keeps the name operators and integrations use.
"""

from __future__ import annotations

from participation.crediting import Beat, credit

__all__ = ["Beat", "credit"]
