from __future__ import annotations

from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Site")

    def ready(self) -> None:
        from cms import admin_titles
        from lib.startup import check_pdf_font, check_static_manifest

        admin_titles.install()  # "新：讲座", not "新: 讲座", on Wagtail's generic views

        # Deploy only: ``migrate`` runs every other check, and may come before collectstatic.
        checks.register(check_static_manifest, checks.Tags.staticfiles, deploy=True)
        checks.register(check_pdf_font)
