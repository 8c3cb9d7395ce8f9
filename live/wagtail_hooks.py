"""Lectures and the attendance policy in the Wagtail admin.

Lectures: lecturers add and change their own (``Lecture.objects.editable_by``); officers and
administrators see those in their scope (``Lecture.objects.visible_to``); another's lecture
answers 404. Each listed lecture links to its attendance table (``live.admin_views``).
The attendance policy: administrators add versions; "editing" one saves a new version.
"""

from __future__ import annotations

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import ListingButton
from wagtail.log_actions import log

from lib.admin_columns import YesNoColumn
from live import admin_views, centre_views, report_views, roster_views, services
from live.centre import CENTRE_MODES
from live.forms import AttendancePolicyForm, LectureForm
from live.models import AttendancePolicy, Lecture
from live.panels import LecturerNextPanel, OfficeLecturesPanel, PresenceGapsPanel
from people.roles import Role, home_roles

# --- Lectures ---------------------------------------------------------------------------------


class LectureIndexView(generic.IndexView):
    def get_base_queryset(self):
        return Lecture.objects.visible_to(self.request.user).select_related("lecturer")

    def get_list_buttons(self, instance):
        buttons = super().get_list_buttons(instance)
        if self.request.user.has_perm("live.view_attendance"):
            buttons.insert(
                0,
                ListingButton(
                    _("Attendance"),
                    url=reverse("live_lecture_attendance", args=[instance.pk]),
                    icon_name="group",
                    priority=5,
                ),
            )
            if instance.mode in CENTRE_MODES:
                buttons.insert(
                    1,
                    ListingButton(
                        _("At the centre"),
                        url=reverse("live_centre_roster", args=[instance.pk]),
                        icon_name="user",
                        priority=6,
                    ),
                )
        return buttons


class LectureEditView(generic.EditView):
    def get_queryset(self):
        return Lecture.objects.editable_by(self.request.user)


class LectureDeleteView(generic.DeleteView):
    def get_queryset(self):
        return Lecture.objects.editable_by(self.request.user)


class LectureHistoryView(generic.HistoryView):
    def get_base_object_queryset(self):
        return Lecture.objects.visible_to(self.request.user)


class LectureUsageView(generic.UsageView):
    def get_base_object_queryset(self):
        return Lecture.objects.visible_to(self.request.user)


class LectureViewSet(ModelViewSet):
    model = Lecture
    form_class = LectureForm
    index_view_class = LectureIndexView
    edit_view_class = LectureEditView
    delete_view_class = LectureDeleteView
    history_view_class = LectureHistoryView
    usage_view_class = LectureUsageView
    # "speaker" is a property: without a label the column reads "Speaker" in every language
    list_display = ["title", "start", Column("speaker", label=_("Speaker")), "mode"]
    ordering = ["-start"]
    icon = "media"
    menu_label = _("Lectures")
    menu_name = "lectures"
    add_to_admin_menu = True
    menu_order = 240
    name = "lectures"
    url_prefix = "lectures"
    copy_view_enabled = False
    inspect_view_enabled = False

    def get_form_class(self, for_update=False):
        return LectureForm


@hooks.register("register_admin_viewset")
def register_lecture_viewset():
    return LectureViewSet()


# --- The attendance policy ------------------------------------------------------------------


class PolicyVersionMixin:
    """Saving the form stores a new version (never changes a stored one)."""

    def save_instance(self):
        instance = services.do_create_policy_version(
            self.form.cleaned_data["rules"],
            note=self.form.cleaned_data.get("note", ""),
            by=self.request.user,
        )
        log(instance=instance, action="wagtail.create", user=self.request.user)
        return instance


class PolicyCreateView(PolicyVersionMixin, generic.CreateView):
    pass


class PolicyEditView(PolicyVersionMixin, generic.EditView):
    def get_success_url(self):
        return reverse("attendance_policies:index")


class AttendancePolicyViewSet(ModelViewSet):
    model = AttendancePolicy
    form_class = AttendancePolicyForm
    add_view_class = PolicyCreateView
    edit_view_class = PolicyEditView
    list_display = [
        "version",
        YesNoColumn("active", model=AttendancePolicy),
        "note",
        "created_at",
        "created_by",
    ]
    ordering = ["-version"]
    icon = "cog"
    menu_label = _("Attendance policy")
    menu_name = "attendance-policy"
    add_to_admin_menu = True
    menu_order = 330
    name = "attendance_policies"
    url_prefix = "attendance-policies"
    copy_view_enabled = False
    inspect_view_enabled = False

    def get_form_class(self, for_update=False):
        return AttendancePolicyForm


@hooks.register("register_admin_viewset")
def register_attendance_policy_viewset():
    return AttendancePolicyViewSet()


@hooks.register("register_admin_urls")
def register_attendance_urls():
    return [
        path(
            "live/lectures/<int:pk>/attendance/",
            admin_views.lecture_attendance,
            name="live_lecture_attendance",
        ),
        path(
            "live/attendance/<int:pk>/override/",
            admin_views.override_attendance,
            name="live_attendance_override",
        ),
    ]


@hooks.register("register_admin_urls")
def register_centre_and_report_urls():
    return centre_views.admin_urlpatterns + report_views.admin_urlpatterns


@hooks.register("register_admin_urls")
def register_roster_urls():
    return [
        path(
            "live/lectures/<int:pk>/roster/",
            roster_views.lecture_roster,
            name="live_lecture_roster",
        ),
    ]


@hooks.register("construct_homepage_panels")
def add_lecture_home_panels(request, panels):
    roles = home_roles(request.user)
    if Role.OFFICER in roles:
        panels.append(OfficeLecturesPanel(request.user))
        panels.append(PresenceGapsPanel(request.user))
    if Role.LECTURER in roles:
        panels.append(LecturerNextPanel(request.user))
