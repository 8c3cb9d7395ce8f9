"""Wagtail's own spreadsheet exports (``?export=csv`` or ``xlsx`` on the site history, locked
and aging pages, workflow reports, redirects, form submissions): administrators only,
logged, and formula-safe like every other export (``lib.downloads.spreadsheet_safe``).

Wagtail writes them through ``SpreadsheetExportMixin`` with no hook of ours: its CSV hands a
page title or a form answer such as ``=HYPERLINK(…)`` to the spreadsheet as typed, and the
buttons show to every staff member who can open a report. ``install()`` (from
``AuditConfig.ready()``) wraps three of the mixin's methods once for every view that uses
it: each cell and heading goes through ``spreadsheet_safe``, the buttons show only to
administrators, and ``as_spreadsheet`` refuses anyone else (403, logged as a denial by
``audit.middleware``) and logs the export. These are the only exports that stay GET (Wagtail
builds them as links); they are closed to everyone who is not an administrator.
"""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.utils.functional import cached_property

from audit.models import Action
from audit.services import record_access
from lib.downloads import spreadsheet_safe
from people.roles import Role, has_role


def may_export(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_superuser or has_role(user, Role.ADMINISTRATOR))
    )


def install() -> None:
    from wagtail.admin.views.mixins import SpreadsheetExportMixin as Mixin

    if getattr(Mixin, "_formula_safe", False):
        return
    preprocess, heading, as_spreadsheet = (
        Mixin.preprocess_field_value,
        Mixin.get_heading,
        Mixin.as_spreadsheet,
    )
    shows_buttons = Mixin.__dict__["show_export_buttons"].func

    @wraps(preprocess)
    def preprocess_field_value(self, field, value, export_format):
        return spreadsheet_safe(preprocess(self, field, value, export_format))

    @wraps(heading)
    def get_heading(self, queryset, field):
        return spreadsheet_safe(heading(self, queryset, field))

    @wraps(as_spreadsheet)
    def guarded_as_spreadsheet(self, queryset, spreadsheet_format):
        if not may_export(self.request.user):
            raise PermissionDenied
        record_access(
            self.request,
            action=Action.EXPORT,
            object_type="wagtail.export",
            detail=f"{spreadsheet_format} {self.request.get_full_path()}"[:255],
        )
        return as_spreadsheet(self, queryset, spreadsheet_format)

    def show_export_buttons(self):
        return shows_buttons(self) and may_export(self.request.user)

    Mixin.preprocess_field_value = preprocess_field_value
    Mixin.get_heading = get_heading
    Mixin.as_spreadsheet = guarded_as_spreadsheet
    Mixin.show_export_buttons = cached_property(show_export_buttons)
    Mixin.show_export_buttons.__set_name__(Mixin, "show_export_buttons")
    Mixin._formula_safe = True
