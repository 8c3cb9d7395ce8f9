"""Django admin (``/django-admin/``) is for superusers only: day-to-day staff work happens in
the Wagtail admin, where every list is scoped with ``visible_to``."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from people.models import Caseload, Office, Person, PrivacyAcknowledgement, PrivacyNotice, User


@admin.register(User)
class PlatformUserAdmin(UserAdmin):
    fieldsets = (
        *UserAdmin.fieldsets,
        (None, {"fields": ("name", "office")}),
    )
    list_display = ("username", "name", "office", "is_active", "is_superuser")
    list_select_related = ("office",)
    search_fields = ("username", "name", "email")


@admin.register(Office)
class OfficeAdmin(TreeAdmin):
    form = movenodeform_factory(Office)
    list_display = ("name", "code", "kind")


class CaseloadInline(admin.TabularInline):
    model = Caseload
    extra = 0
    autocomplete_fields = ("counselor",)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("case_number", "full_name", "office", "category", "status")
    list_filter = ("category", "status", "office")
    list_select_related = ("office",)
    search_fields = ("case_number", "full_name")
    autocomplete_fields = ("user", "case_officer")
    inlines = [CaseloadInline]


@admin.register(PrivacyNotice)
class PrivacyNoticeAdmin(admin.ModelAdmin):
    """Publish a new version as a new row; a version that people have acknowledged is kept
    unchanged so that every acknowledgement still points at the text the person read."""

    list_display = ("version", "title", "published_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.acknowledgements.exists():
            return ("version", "title", "title_en", "body_zh", "body_en", "published_at")
        return ()

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.acknowledgements.exists()


@admin.register(PrivacyAcknowledgement)
class PrivacyAcknowledgementAdmin(admin.ModelAdmin):
    list_display = ("person", "notice", "acknowledged_at")
    list_select_related = ("person", "notice")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
