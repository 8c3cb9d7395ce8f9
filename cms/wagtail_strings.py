"""Wagtail admin strings whose Chinese this project's catalogue supplies or corrects.

Wagtail 8's own zh_Hans catalogue lacks these (the admin home's search box, its page counts,
the editor guide link, the moderation banner) or gets one wrong ("Pages" as 分页,
"pagination", in every staff member's menu). Our catalogue comes first (``LOCALE_PATHS``),
so an entry there wins; listing the source texts here keeps ``make messages`` from dropping
them as obsolete. Nothing imports this module: it is read by ``makemessages`` only.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

STRINGS = (
    gettext_noop("Pages"),
    gettext_noop("Search all pages…"),
    gettext_noop("Page types usage"),
    gettext_noop("Wagtail %(current_version)s editor guide"),
    gettext_noop("This %(model_name)s is currently awaiting moderation."),
    gettext_noop("Only reviewers for this task can edit the %(model_name)s."),
    gettext_noop(
        "This {model_name} is awaiting <b>'{task_name}'</b> in the <b>'{workflow_name}'</b> "
        "workflow."
    ),
)

PLURALS = (
    ngettext_lazy(
        '%(total)s Page <span class="w-sr-only">created in %(site_name)s</span>',
        '%(total)s Pages <span class="w-sr-only">created in %(site_name)s</span>',
        "total",
    ),
    ngettext_lazy(
        '%(total)s Image <span class="w-sr-only">created in %(site_name)s</span>',
        '%(total)s Images <span class="w-sr-only">created in %(site_name)s</span>',
        "total",
    ),
    ngettext_lazy(
        '%(total)s Document <span class="w-sr-only">created in %(site_name)s</span>',
        '%(total)s Documents <span class="w-sr-only">created in %(site_name)s</span>',
        "total",
    ),
)
