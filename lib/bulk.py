"""Set-based inserts and updates of plain values, for the few services that write a thousand
rows at once (the attendance recompute: ``Attendance``, the participation ledger, makeups).

``QuerySet.bulk_create`` and ``bulk_update`` build a model instance per row and prepare every
field of it one by one, and ``bulk_update`` writes a ``CASE WHEN`` per field; for 1,000 rows
that is most of a recompute's time. These take rows of values for named fields instead, with
each distinct value prepared once per column, and hand them to the driver's ``executemany``:
one prepared statement run for every row (psycopg sends them all in one pipeline, SQLite
never leaves the process). A multi-row ``VALUES`` of thousands of parameters would cost more:
psycopg parses such a statement again on every call.

What they do not do, unlike ``save()``: no signals, no ``auto_now``, no primary key read back
onto anything; a field left out of ``insert_rows`` gets its default (one value for all rows,
``auto_now``/``auto_now_add`` fields the current time). Values must be what the field stores
(ids for foreign keys, aware datetimes). Call inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone


def _preparer(field: models.Field) -> Callable[[Any], Any]:
    """``field.get_db_prep_save`` with each hashable value prepared once (one ``now`` for
    every row costs one conversion, not a thousand); a plain ``str`` or ``int`` for a text or
    integer column (or a foreign key to one) is passed as it is, as Django would."""
    prepare = field.get_db_prep_save
    target = field.target_field if field.is_relation else field
    plain: type | None = None
    if isinstance(target, models.CharField | models.TextField):
        plain = str
    elif isinstance(target, models.IntegerField):
        plain = int
    cache: dict[tuple[type, Any], Any] = {}

    def prep(value: Any) -> Any:
        kind = type(value)
        if value is None or kind is plain:
            return value
        try:
            key = (kind, value)
            return cache[key]
        except KeyError:
            cache[key] = prepared = prepare(value, connection)
            return prepared
        except TypeError:  # unhashable: a dict for a JSON field
            return prepare(value, connection)

    return prep


def _fields(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    return [model._meta.get_field(name) for name in names]


def insert_rows(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert one row per item of ``rows`` (values in the order of ``names``); every other
    concrete field but the auto primary key gets its default. Returns the number of rows."""
    fields = _fields(model, names)
    given = set(fields)
    defaults: list[tuple[models.Field, Any]] = []
    for field in model._meta.concrete_fields:
        if field in given or (field.primary_key and isinstance(field, models.AutoField)):
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = timezone.now()
        else:
            value = field.get_default()
        defaults.append((field, field.get_db_prep_save(value, connection)))
    columns = [*fields, *(field for field, _value in defaults)]
    tail = tuple(value for _field, value in defaults)
    preps = [_preparer(field) for field in fields]
    params = [
        (*(prep(value) for prep, value in zip(preps, row, strict=True)), *tail) for row in rows
    ]
    if not params:
        return 0
    # identifiers only from the model's metadata, quoted; every value is a parameter
    quote = connection.ops.quote_name
    names_sql = ", ".join(quote(field.column) for field in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names_sql}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(params)


def update_rows(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Set ``names`` of the row with primary key ``row[0]`` to ``row[1:]``, for every row.
    Returns the number of rows given."""
    fields = _fields(model, names)
    pk = model._meta.pk
    preps = [_preparer(pk), *(_preparer(field) for field in fields)]
    params = [tuple(prep(value) for prep, value in zip(preps, row, strict=True)) for row in rows]
    if not params:
        return 0
    # identifiers only from the model's metadata, quoted; every value is a parameter
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    table = quote(model._meta.db_table)
    sql = f"UPDATE {table} SET {assignments} WHERE {quote(pk.column)} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(*row[1:], row[0]) for row in params])
    return len(params)
