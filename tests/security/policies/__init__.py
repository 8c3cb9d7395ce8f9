"""Per-app permission policies, collected by ``tests/security/test_permission_matrix.py``.

Each module here declares, for one app's URLs, what every role must get:
``RULES`` (a list of ``tests.security.matrix.Rule``), and optionally ``OBJECT_PROBES``
(``(url name, method, lambda obj: expectations)`` with in-scope, out-of-scope and missing
ids), ``WS_POLICY`` (``{websocket route: roles(...)}``) and ``WS_PARAMS`` (sample parameters
of a websocket route, ``{route: org -> {name: value}}``). A new module is picked up
automatically; a URL nobody declares fails ``test_every_route_is_declared``.
"""

from __future__ import annotations

import pkgutil
from importlib import import_module
from types import ModuleType


def _modules() -> list[ModuleType]:
    return [import_module(f"{__name__}.{info.name}") for info in pkgutil.iter_modules(__path__)]


def app_rules() -> list:
    return [rule for module in _modules() for rule in module.RULES]


def app_object_probes() -> list:
    return [probe for module in _modules() for probe in getattr(module, "OBJECT_PROBES", [])]


def app_ws_policy() -> dict:
    policy: dict = {}
    for module in _modules():
        policy.update(getattr(module, "WS_POLICY", {}))
    return policy


def app_ws_params() -> dict:
    """``{websocket route: org -> {param: value}}`` for routes with parameters (``WS_PARAMS``)."""
    params: dict = {}
    for module in _modules():
        params.update(getattr(module, "WS_PARAMS", {}))
    return params
