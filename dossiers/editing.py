"""Changes to a catalogue definition made by the catalogue's forms, as pure functions over
its data: a section or a round replaced or added, removed, or moved one place. Each returns
new data for ``services.do_save_catalogue`` (which validates it and saves a new version) or
raises ``CatalogueEditError`` with the reason in the administrator's language."""

from __future__ import annotations

import copy

from django.utils.translation import gettext as _

from dossiers.schema import CatalogueDef

SECTIONS, ROUNDS = "sections", "rounds"
KINDS = (SECTIONS, ROUNDS)
MAX_ROUNDS = 9


class CatalogueEditError(Exception):
    """A change the catalogue cannot take; ``str()`` is the message to show."""


def as_data(catalogue: CatalogueDef) -> dict:
    return catalogue.model_dump(mode="json")


def new_key(definition: dict, kind: str, stem: str) -> str:
    """A key not yet used among ``definition[kind]``: ``stem``, else ``stem_2``, ``stem_3``…"""
    used = {item["key"] for item in definition[kind]}
    key, number = stem[:36], 2
    while key in used:
        key = f"{stem[:36]}_{number}"
        number += 1
    return key


def _index(definition: dict, kind: str, key: str) -> int:
    for index, item in enumerate(definition[kind]):
        if item["key"] == key:
            return index
    raise CatalogueEditError(_("That entry is no longer in the catalogue; nothing was saved."))


def with_item(definition: dict, kind: str, key: str | None, item: dict) -> dict:
    """``definition`` with the entry ``key`` of ``kind`` replaced by ``item`` (its key kept),
    or ``item`` added at the end under a new key when ``key`` is ``None``."""
    data = copy.deepcopy(definition)
    if key is None:
        if kind == ROUNDS and len(data[kind]) >= MAX_ROUNDS:
            raise CatalogueEditError(
                _("A file goes through at most %(n)d rounds; nothing was saved.")
                % {"n": MAX_ROUNDS}
            )
        stem = item.get("rule", "") if kind == SECTIONS else "round"
        data[kind].append({**item, "key": new_key(data, kind, stem or "section")})
    else:
        index = _index(data, kind, key)
        data[kind][index] = {**item, "key": key}
    return data


def without(definition: dict, kind: str, key: str) -> dict:
    data = copy.deepcopy(definition)
    index = _index(data, kind, key)
    if len(data[kind]) == 1:
        raise CatalogueEditError(
            _("The catalogue needs at least one section; nothing was saved.")
            if kind == SECTIONS
            else _("A file needs at least one review round; nothing was saved.")
        )
    del data[kind][index]
    return data


def moved(definition: dict, kind: str, key: str, step: int) -> dict:
    """``definition`` with the entry ``key`` moved ``step`` places (-1 up, 1 down); at either
    end it stays where it is."""
    data = copy.deepcopy(definition)
    index = _index(data, kind, key)
    target = min(max(index + step, 0), len(data[kind]) - 1)
    data[kind].insert(target, data[kind].pop(index))
    return data
