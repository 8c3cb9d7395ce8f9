"""lib/startup.py: a server process freezes its startup objects once they are loaded."""

from __future__ import annotations

import gc
import importlib
import weakref

from django.urls import clear_url_caches, get_resolver

from lib.startup import settle


def test_settle_loads_the_url_conf_and_freezes_what_is_alive():
    gc.unfreeze()
    clear_url_caches()
    try:
        settle()
        assert gc.get_freeze_count() > 10_000  # Django, Wagtail, the URL conf
        assert get_resolver().url_patterns  # loaded, so frozen too

        class Node:
            pass

        cycle = Node()
        cycle.itself = cycle  # a cycle made after startup is still collected
        alive = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert alive() is None
    finally:
        gc.unfreeze()


def test_the_wsgi_and_asgi_entry_points_settle():
    import config.asgi
    import config.wsgi

    for module in (config.wsgi, config.asgi):
        gc.unfreeze()
        importlib.reload(module)
        assert gc.get_freeze_count() > 10_000, module.__name__
    gc.unfreeze()
