"""Legal-education content: a course index, courses, and lessons (Wagtail pages).

Lesson bodies are StreamFields; the quiz block's answer key lives in the page and is marked
by ``courses.quiz``. Learner data (progress, attempts) is never stored here: see ``learning``.
"""

from __future__ import annotations

from django import forms
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageChooserBlock
from wagtail.models import Page, PageViewRestriction

from courses.quiz import QuestionKind, quiz_of
from people.models import Category


class Topic(models.TextChoices):
    LEGAL = "legal", _("Rule of law")
    MORAL = "moral", _("Morality")
    MENTAL_HEALTH = "mental_health", _("Mental health")
    VOCATIONAL = "vocational", _("Vocational skills")
    ANTI_DRUG = "anti_drug", _("Drug prevention")


class VideoBlock(blocks.StructBlock):
    url = blocks.URLBlock(label=_("Video URL"), required=False)
    document = DocumentChooserBlock(label=_("Uploaded video file"), required=False)
    duration_seconds = blocks.IntegerBlock(label=_("Duration (seconds)"), min_value=1)
    caption = blocks.CharBlock(label=_("Caption"), required=False)
    # WCAG 1.2.2: what is said in the video, as captions on the player and as text below it.
    captions = DocumentChooserBlock(
        label=_("Captions file (WebVTT, .vtt)"),
        required=False,
        help_text=_("Shown on the video for those who cannot hear it."),
    )
    transcript = blocks.TextBlock(
        label=_("Transcript"),
        required=False,
        help_text=_("Everything said in the video, for those who read instead of listening."),
    )

    def clean(self, value):
        value = super().clean(value)
        if not value.get("url") and not value.get("document"):
            raise blocks.StructBlockValidationError(
                block_errors={"url": forms.ValidationError(_("Give a URL or upload a file."))}
            )
        captions = value.get("captions")
        if captions is not None and not captions.file.name.lower().endswith(".vtt"):
            raise blocks.StructBlockValidationError(
                block_errors={
                    "captions": forms.ValidationError(_("Captions must be a WebVTT file (.vtt)."))
                }
            )
        return value

    class Meta:
        icon = "media"
        label = _("Video")
        template = "courses/blocks/video.html"


class OptionBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("Option"))
    correct = blocks.BooleanBlock(label=_("Correct"), required=False)


class QuestionBlock(blocks.StructBlock):
    kind = blocks.ChoiceBlock(choices=QuestionKind.choices, default=QuestionKind.SINGLE)
    text = blocks.TextBlock(label=_("Question"))
    options = blocks.ListBlock(OptionBlock(), label=_("Options (choice questions)"), min_num=0)
    answer_true = blocks.BooleanBlock(
        label=_("The statement is true (true-or-false questions)"), required=False
    )
    explanation = blocks.TextBlock(label=_("Explanation"), required=False)


class QuizBlock(blocks.StructBlock):
    pass_mark = blocks.IntegerBlock(
        # xgettext:no-python-format
        label=_("Pass mark (% of questions correct)"),
        min_value=0,
        max_value=100,
        default=60,
    )
    questions = blocks.ListBlock(QuestionBlock(), label=_("Questions"), min_num=1)

    class Meta:
        icon = "tasks"
        label = _("Quiz")


class LessonBodyBlock(blocks.StreamBlock):
    text = blocks.RichTextBlock(label=_("Text"))
    video = VideoBlock()
    pdf = DocumentChooserBlock(label=_("PDF document"), template="courses/blocks/pdf.html")
    image = ImageChooserBlock(label=_("Image"), template="courses/blocks/image.html")
    quiz = QuizBlock()


class CourseIndexPage(Page):
    """Where courses live in the tree; learners are sent to their home page instead."""

    intro = RichTextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["courses.CoursePage"]
    max_count = 1

    class Meta:
        verbose_name = _("course index")
        verbose_name_plural = _("course indexes")

    def route(self, request, path_components):
        # One query for the specific child instead of Wagtail's two (base page, then specific).
        if path_components:
            return _route_child(self, CoursePage, request, path_components)
        return super().route(request, path_components)

    def serve(self, request, *args, **kwargs):
        from django.shortcuts import redirect

        return redirect("/")


class CoursePageForm(WagtailAdminPageForm):
    intended_categories = forms.MultipleChoiceField(
        label=_("intended categories"),
        choices=Category.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class CoursePage(Page):
    summary = models.TextField(_("summary"), blank=True)
    cover_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("cover image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices, default=Topic.LEGAL)
    credit_hours = models.DecimalField(_("credit hours"), max_digits=5, decimal_places=1, default=1)
    # Supervision categories (people.Category values) the course is meant for.
    intended_categories = models.JSONField(_("intended categories"), default=list, blank=True)

    base_form_class = CoursePageForm
    content_panels = [
        *Page.content_panels,
        FieldPanel("summary"),
        FieldPanel("cover_image"),
        FieldPanel("topic"),
        FieldPanel("credit_hours"),
        FieldPanel("intended_categories"),
    ]
    parent_page_types = ["courses.CourseIndexPage"]
    subpage_types = ["courses.LessonPage"]

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    def route(self, request, path_components):
        if path_components:
            return _route_child(self, LessonPage, request, path_components)
        return super().route(request, path_components)

    def lessons(self):
        return LessonPage.objects.child_of(self).live().defer_streamfields().order_by("path")


class LessonPage(Page):
    expected_seconds = models.PositiveIntegerField(
        _("expected study time (seconds)"),
        default=600,
        # xgettext:no-python-format
        help_text=_("Credit stops at 1.5 times this; completion needs 80% of it."),
    )
    body = StreamField(LessonBodyBlock(), blank=True, verbose_name=_("body"))

    content_panels = [*Page.content_panels, FieldPanel("expected_seconds"), FieldPanel("body")]
    parent_page_types = ["courses.CoursePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")

    def quiz(self):
        """The lesson's quiz as plain data (the first quiz block), or None."""
        return quiz_of(self)

    def has_video(self) -> bool:
        return any(block.block_type == "video" for block in self.body)

    def get_view_restrictions(self):
        """Restrictions on this page or an ancestor (aliases resolved), in one query."""
        paths = [self.path[:end] for end in range(self.steplen, len(self.path) + 1, self.steplen)]
        in_tree = Page.objects.filter(path__in=paths)
        return PageViewRestriction.objects.filter(
            Q(page__in=in_tree.filter(alias_of__isnull=True))
            | Q(page__in=in_tree.filter(alias_of__isnull=False).values("alias_of_id"))
        )


def _route_child(parent: Page, model: type[Page], request, path_components):
    try:
        child = model.objects.child_of(parent).get(slug=path_components[0])
    except model.DoesNotExist as error:
        raise Http404 from error
    child._cached_parent_obj = parent
    return child.route(request, path_components[1:])
