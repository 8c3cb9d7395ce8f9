"""A server process's startup: load what every request needs, then keep it out of the
garbage collector's full passes.

Django, Wagtail and the URL conf leave about 280,000 objects that live as long as the
process. Python's full (generation 2) collection walks every one of them: about 150 ms on a
small machine, a stall of every request the worker holds. It runs whenever enough new
long-lived objects pile up, which the per-worker caches of a busy worker make frequent:
on the busiest endpoint the slowest 1% of requests took 80 ms and more. Frozen
(``gc.freeze``), the startup objects are skipped by every collection, and workers forked
from a preloaded master share them without copying (the collector no longer writes to them).
"""

from __future__ import annotations

import gc

from django.core.exceptions import ImproperlyConfigured

from lib.pdf import FONT_CHECK_ID, font_problem, register_font

STATIC_MANIFEST_CHECK_ID = "lib.E001"


def static_manifest_problem() -> str | None:
    """Why the static files cannot be served, or ``None``. With a manifest storage
    (``DJANGO_ENV=production``) every page that links a static file looks its name up in
    ``STATIC_ROOT/staticfiles.json``; without that file each such page (sign-in first)
    answers 500. ``collectstatic`` writes it."""
    from django.contrib.staticfiles.storage import ManifestFilesMixin
    from django.core.files.storage import storages

    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin):
        return None
    if storage.manifest_storage.exists(storage.manifest_name):
        return None
    return (
        f"The static files' manifest {storage.manifest_storage.path(storage.manifest_name)} "
        "is missing, so every page would answer 500: run `python manage.py collectstatic "
        "--noinput` (into STATIC_ROOT) before starting the server."
    )


def check_static_manifest(app_configs=None, **kwargs) -> list:
    """The system check (``check --deploy``) of ``static_manifest_problem``."""
    from django.core.checks import Error

    problem = static_manifest_problem()
    if problem is None:
        return []
    return [Error(problem, id=STATIC_MANIFEST_CHECK_ID)]


def check_pdf_font(app_configs=None, **kwargs) -> list:
    """The system check (every ``manage.py`` command that runs checks, ``runserver`` first)
    that PDFs can embed their font (``lib.pdf.font_problem``): a warning, since they still
    work with the fallback font."""
    from django.core.checks import Warning

    problem = font_problem()
    return [] if problem is None else [Warning(problem, id=FONT_CHECK_ID)]


def settle() -> None:
    """Refuse to start without the static files' manifest (``ImproperlyConfigured`` with the
    step to run); load the URL conf (otherwise loaded by the first request) and the PDF font
    (logging a warning if it is missing), collect, then freeze."""
    from django.urls import get_resolver

    problem = static_manifest_problem()
    if problem is not None:
        raise ImproperlyConfigured(problem)
    get_resolver().url_patterns  # noqa: B018 (loading it is the point)
    register_font()
    gc.collect()
    gc.freeze()
