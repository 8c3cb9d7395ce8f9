"""Date and time inputs that carry ISO values in every language.

The browser's ``<input type="date">`` (and ``time``, ``datetime-local``) only accepts ISO
values; Django renders a date with the active language's first input format, which in
Chinese is ``2027/03/07``: the browser drops it and the field looks empty. These widgets fix
the format, so a form shows and sends the same value in every language. Use them for every
date and time field (``tests/lib/test_widgets.py`` checks that nothing else is used).
"""

from __future__ import annotations

from django import forms

ISO_DATE = "%Y-%m-%d"
ISO_TIME = "%H:%M"
ISO_DATETIME = "%Y-%m-%dT%H:%M"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format=ISO_DATE)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format=ISO_TIME)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format=ISO_DATETIME)
