from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page

from cms.dashboard import dashboard_for


class HomePage(Page):
    """The site's front door: a welcome for visitors, a personal dashboard once signed in."""

    intro = RichTextField(_("welcome text"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = _("home page")
        verbose_name_plural = _("home pages")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["dashboard"] = dashboard_for(request.user)
        return context

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        if request.user.is_authenticated:
            # The dashboard is personal: never let a shared proxy or the browser's back
            # button show it to the next person on the same phone.
            response["Cache-Control"] = "no-store, private"
        return response


class StandardPage(Page):
    """A plain page for help texts, notices and the privacy statement."""

    body = StreamField(
        [
            ("heading", blocks.CharBlock(form_classname="title", label=_("Heading"))),
            ("paragraph", blocks.RichTextBlock(label=_("Paragraph"))),
        ],
        blank=True,
        verbose_name=_("body"),
    )

    content_panels = [*Page.content_panels, FieldPanel("body")]

    class Meta:
        verbose_name = _("standard page")
        verbose_name_plural = _("standard pages")
