from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from lib.health import HealthView

# The product's name, not "Django administration", on the Django admin's pages.
admin.site.site_header = admin.site.site_title = _(
    "Community corrections learning and support platform"
)


def not_found(request, *args, **kwargs):
    raise Http404


urlpatterns = [
    # Wagtail routes a deliberate error page for its own tests; nobody should reach it here.
    path("admin/failwhale/", not_found, name="blocked_failwhale"),
    # Wagtail's image/document "chosen" views crash (500) on a non-numeric id: answer 404.
    re_path(
        r"^admin/(?:images|documents)/chooser/chosen/(?!\d+/$)[^/]*/$",
        not_found,
        name="blocked_chooser_chosen",
    ),
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("people.urls")),
    path("privacy/", include("people.privacy_urls")),
    path("assessments/", include("assessments.urls")),
    path("plans/", include("plans.urls")),
    path("notifications/", include("notifications.urls")),
    path("health/", HealthView.as_view(), name="health"),
    path("learning/", include("learning.urls")),
    path("learning/", include("participation.urls")),
    path("verify/", include("learning.verify_urls")),
    path("live/", include("live.urls")),
    path("rollcall/", include("rollcall.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Wagtail's page serving catches everything else, so it comes last.
urlpatterns += [path("", include(wagtail_urls))]
