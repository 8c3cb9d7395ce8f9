"""The Wagtail admin's sign-in form (``WAGTAILADMIN_USER_LOGIN_FORM``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.auth import LoginForm


class AdminLoginForm(LoginForm):
    """Wagtail's sign-in form with a label on the password field: Wagtail 8 gives it none, so
    Django shows the field's name, "Password", untranslated on the Chinese page."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["password"].label = _("Password")
