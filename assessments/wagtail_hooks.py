from __future__ import annotations

from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from assessments import admin_views


@hooks.register("register_admin_urls")
def register_assessment_urls():
    return [
        path("assessments/queue/", admin_views.review_queue, name="assessments_review_queue"),
        path(
            "assessments/results/<int:pk>/",
            admin_views.result_detail,
            name="assessments_result_detail",
        ),
        path(
            "assessments/results/<int:pk>/pdf/",
            admin_views.result_pdf_view,
            name="assessments_result_pdf",
        ),
        path("assessments/assign/", admin_views.assign, name="assessments_assign"),
    ]


class ResultsMenuItem(MenuItem):
    def is_shown(self, request):
        return admin_views.may_see_results(request.user)


@hooks.register("register_admin_menu_item")
def register_review_menu_item():
    return ResultsMenuItem(
        _("Questionnaire reviews"),
        reverse("assessments_review_queue"),
        icon_name="clipboard-list",
        order=220,
    )


@hooks.register("insert_global_admin_js")
def alert_socket_js():
    # Listens on ws/me/ and shows a banner when an alert is pushed (see taking._raise_alert).
    return format_html('<script src="{}" defer></script>', static("assessments/admin_alerts.js"))
