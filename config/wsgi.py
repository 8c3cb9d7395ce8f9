from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from lib.startup import settle  # noqa: E402 (needs the settings above)

settle()  # the startup objects out of the collector's full passes (lib/startup.py)
