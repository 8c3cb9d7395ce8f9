"""Django's database session engine with its two per-request statements written out once.

Every signed-in request reads its session row, and a session that changes (an idle clock,
say) is written back. Compiling those two ORM queries costs several times the CPU of running
them (about 1 ms on a small request), so this engine runs the same SQL directly (on
PostgreSQL, the write in one round trip with an asynchronous commit). Behaviour is Django's
``db`` engine: same table, same expiry rule, the same ``UpdateError`` when the row has gone
(a session flushed by a sign-out elsewhere). Creating, deleting and clearing sessions are
inherited unchanged.

After a save, ``saved_text`` is the text the row now holds: a caller that keeps a copy of
the row need not read it again.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        key = self.session_key  # None when the cookie's key is malformed
        row = None
        if key is not None:
            model = self.model
            connection = connections[router.db_for_read(model)]
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT session_data FROM {model._meta.db_table}"  # noqa: S608
                    " WHERE session_key = %s AND expire_date > %s",
                    [key, now],
                )
                row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return self.model(session_key=key, session_data=row[0])

    def save(self, must_create=False):
        if must_create or self.session_key is None:
            return super().save(must_create=must_create)
        model = self.model
        connection = connections[router.db_for_write(model)]
        data = self.encode(self._get_session(no_load=False))
        expire = connection.ops.adapt_datetimefield_value(self.get_expiry_date())
        update = (
            f"UPDATE {model._meta.db_table} SET session_data = %s, expire_date = %s"  # noqa: S608
            " WHERE session_key = %s"
        )
        params = [data, expire, self.session_key]
        with connection.cursor() as cursor:
            if _batches(connection) and not connection.in_atomic_block:
                # One round trip, committed without waiting for the disk: a session's idle
                # clock lost in a server crash only means a sign-out a minute early at worst.
                cursor.execute(f"BEGIN; {_ASYNC_COMMIT}; {update}; COMMIT", params)
                cursor.nextset()
                cursor.nextset()
            else:
                cursor.execute(update, params)
            if cursor.rowcount != 1:
                raise UpdateError
        self.saved_text = data
        return None


_ASYNC_COMMIT = "SELECT set_config('synchronous_commit', 'off', true)"


def _batches(connection) -> bool:
    """Whether the connection takes several statements in one round trip (PostgreSQL with
    client-side binding, Django's default)."""
    return connection.vendor == "postgresql" and not connection.settings_dict["OPTIONS"].get(
        "server_side_binding"
    )
