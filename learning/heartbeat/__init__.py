"""The heartbeat: how a lesson page's beats become credited study time.

The lesson page beats every 15 s while it is visible (``static/js/heartbeat.js``); the
server stamps each beat with its own clock. The crediting rule itself is
``participation.crediting`` (``live``'s makeups use it too); here is everything else:

- ``rule.py``: the one beat decision, pure (``decide_beat``), and its numbers.
- ``store.py``: recording a beat: the common path (one database call on PostgreSQL) and the
  general path, both going by ``decide_beat``; completion and the month's ledger row.
- ``statements.py``: the SQL of both paths, and the prepared-statement cursor.
- ``common_beat.sql``: ``learning_common_beat``, ``decide_beat`` and the common path's
  writes as a PostgreSQL function (learning migration 0007 installs it).
- ``access.py``: who may beat (the enrollment, read with the session row on the fast path).
- ``views.py``: ``POST /learning/heartbeat/``, the full way, and the answers.
- ``middleware.py``: the fast path, answering ordinary JSON beats before the rest of the
  middleware stack with the same checks.

Tests: ``tests/learning/test_heartbeat*.py`` and ``test_common_beat_*.py``.
"""
