"""Append-only records: rows that are written once and never changed or deleted by the
application (the access log, provider events, scored results).

Mix ``AppendOnlyQuerySetMixin`` into the model's QuerySet and ``AppendOnlyModelMixin`` into
the model. Both are plain mixins, so adding them changes no migration.
"""

from __future__ import annotations


class AppendOnlyError(RuntimeError):
    """An attempt to change or delete an append-only record."""


def _refuse(model) -> AppendOnlyError:
    return AppendOnlyError(f"{model._meta.verbose_name_plural} are append-only")


class AppendOnlyQuerySetMixin:
    def update(self, **kwargs):
        raise _refuse(self.model)

    def delete(self):
        raise _refuse(self.model)


class AppendOnlyModelMixin:
    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise _refuse(type(self))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise _refuse(type(self))
