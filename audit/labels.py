"""What the access log page shows a person instead of stored codes.

The log stores object types as ``app_label.model`` and roles as codes (an audit record that
must not change with a translation). The page reads them as the model's verbose name and the
role's label in the reader's language, and names the object where a name is one column away.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from django.apps import apps
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.models import AccessEvent
from people.models import Person
from people.roles import Role

# The first of these a model has is its name (persons, pages, lectures, offices, users).
NAME_FIELDS = ("full_name", "title", "name")
# Names are looked up for at most this many models per page: one query each, so the page
# stays at a fixed number of queries however many kinds of object it lists.
MAX_NAMED_MODELS = 8
# Object types that are not models.
PSEUDO_TYPES = {
    "url": gettext_lazy("Page address"),
    "wagtail.export": gettext_lazy("Admin export"),
    "assessments.statistics": gettext_lazy("Questionnaire statistics"),
}
ROLE_LABELS = {**dict(Role.choices), "superuser": gettext_lazy("Superuser")}

# Object types without a name column, named by the app that owns them: ``namer(pks)`` answers
# {pk: name} in one query. Filled in the owning app's ``AppConfig.ready()``.
Namer = Callable[[set[int]], dict[int, str]]
NAMERS: dict[str, Namer] = {}


def register_object_namer(object_type: str, namer: Namer) -> None:
    """Name the ``object_type`` ("app_label.model") rows the access log shows."""
    NAMERS[object_type] = namer


def _model(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _name_field(model: type[models.Model]) -> str | None:
    names = {field.name for field in model._meta.concrete_fields}
    return next((name for name in NAME_FIELDS if name in names), None)


def type_label(object_type: str) -> str:
    """The object type in the reader's language ("" for none)."""
    if not object_type:
        return ""
    if object_type in PSEUDO_TYPES:
        return str(PSEUDO_TYPES[object_type])
    model = _model(object_type)
    if model is not None:
        return str(model._meta.verbose_name)
    app_label = object_type.partition(".")[0]
    try:
        app = apps.get_app_config(app_label)
    except LookupError:
        return _("Other record")
    return str(app.verbose_name)


def role_label(roles: str) -> str:
    return "、".join(str(ROLE_LABELS.get(code, code)) for code in roles.split(",") if code)


def describe_events(events: Iterable[AccessEvent]) -> None:
    """Set ``object_label``, ``object_name``, ``role_label`` and ``case_number`` on each event:
    one query per named model among the events, for at most ``MAX_NAMED_MODELS`` models, and
    one for the persons' case numbers."""
    events = list(events)
    ids: dict[str, set[int]] = defaultdict(set)
    labels: dict[str, str] = {}
    for event in events:
        if event.object_type not in labels:
            labels[event.object_type] = type_label(event.object_type)
        if event.object_id.isdigit():
            ids[event.object_type].add(int(event.object_id))
    names: dict[tuple[str, str], str] = {}
    looked_up = 0
    for object_type, pks in ids.items():
        if looked_up >= MAX_NAMED_MODELS:
            break
        namer = NAMERS.get(object_type)
        if namer is not None:
            looked_up += 1
            named = namer(pks)
            names.update({(object_type, str(pk)): name for pk, name in named.items()})
            continue
        model = _model(object_type)
        field = _name_field(model) if model is not None else None
        if field is None:
            continue
        looked_up += 1
        rows = model._base_manager.filter(pk__in=pks).values_list("pk", field)
        names.update({(object_type, str(pk)): str(name) for pk, name in rows})
    # The case number staff know a person by, not the internal id (kept in the export).
    person_ids = {event.person_id for event in events if event.person_id}
    case_numbers = (
        dict(Person._base_manager.filter(pk__in=person_ids).values_list("pk", "case_number"))
        if person_ids
        else {}
    )
    for event in events:
        event.case_number = case_numbers.get(event.person_id, "")
        event.object_label = labels[event.object_type]
        event.object_name = names.get((event.object_type, event.object_id), "")
        event.role_label = role_label(event.role)
