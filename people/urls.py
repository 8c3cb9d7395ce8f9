from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from people import activation_views, twofactor_views
from people.lockout import SignInView

urlpatterns = [
    path(
        "login/",
        SignInView.as_view(),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("activate/", activation_views.activate, name="activate"),
    path("2fa/setup/", twofactor_views.setup, name="twofactor_setup"),
    path("2fa/verify/", twofactor_views.verify, name="twofactor_verify"),
    path("2fa/recovery/", twofactor_views.recovery, name="twofactor_recovery"),
]
