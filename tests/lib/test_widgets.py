"""Every date and time field in the project renders an ISO value, whatever the language
(issue 17, item 1: Chinese rendered ``2027/03/07``, which the browser's date input drops)."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.utils import translation
from wagtail.admin import widgets as wagtail_widgets

from lib.widgets import DateInput, DateTimeInput, TimeInput

ISO_WIDGETS = (
    DateInput,
    TimeInput,
    DateTimeInput,
    # Wagtail's own pickers format with WAGTAIL_DATE_FORMAT / WAGTAIL_DATETIME_FORMAT (ISO).
    wagtail_widgets.AdminDateInput,
    wagtail_widgets.AdminTimeInput,
    wagtail_widgets.AdminDateTimeInput,
)


def _project_forms() -> list[type[forms.BaseForm]]:
    """Every form class defined in the project's own apps (their modules imported first)."""
    root = str(settings.BASE_DIR)
    local = [c for c in apps.get_app_configs() if c.path.startswith(root) and ".venv" not in c.path]
    for config in local:
        for module in pkgutil.walk_packages([config.path], prefix=f"{config.name}."):
            if ".migrations" not in module.name and ".management" not in module.name:
                importlib.import_module(module.name)
    names = {c.name for c in local}
    found, todo = [], [forms.BaseForm]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in names:
            found.append(cls)
    return found


def test_every_date_and_time_field_of_the_project_uses_an_iso_widget():
    temporal = (forms.DateField, forms.TimeField, forms.DateTimeField)
    offenders = [
        f"{cls.__module__}.{cls.__qualname__}.{name}: {type(field.widget).__name__}"
        for cls in _project_forms()
        for name, field in cls.base_fields.items()
        if isinstance(field, temporal) and not isinstance(field.widget, ISO_WIDGETS)
    ]
    assert _project_forms(), "no project form found"
    assert offenders == []


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_widgets_render_iso_values_in_every_language(language):
    with translation.override(language):
        assert 'value="2027-03-07"' in DateInput().render("d", dt.date(2027, 3, 7))
        assert 'type="date"' in DateInput().render("d", dt.date(2027, 3, 7))
        assert 'value="09:05"' in TimeInput().render("t", dt.time(9, 5))
        moment = dt.datetime(2027, 3, 7, 9, 5)  # noqa: DTZ001 - a widget test, no zone involved
        assert 'value="2027-03-07T09:05"' in DateTimeInput().render("m", moment)
