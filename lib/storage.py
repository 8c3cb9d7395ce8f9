"""Private file storage: files about a person (absence evidence, generated reports) are kept
outside ``MEDIA_ROOT`` and only ever served by views that check permissions and log access."""

from __future__ import annotations

from django.core.files.storage import Storage, storages


def private_storage() -> Storage:
    """The ``private`` storage (``settings.STORAGES``); a callable so migrations stay stable
    and tests can point ``PRIVATE_MEDIA_ROOT`` elsewhere."""
    return storages["private"]
