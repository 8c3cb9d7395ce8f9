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
    # Listings, forms and the image library (Wagtail's catalogue has no Chinese for them).
    gettext_noop("Go to the first error"),
    gettext_noop("Actions (footer)"),
    gettext_noop("Edit account avatar"),
    gettext_noop("New: %(model_name)s"),
    gettext_noop(
        'There are no %(model_name)s to display. Why not <a href="%(add_url)s">add one</a>?'
    ),
    gettext_noop("Sort by '%(label)s' in ascending order."),
    gettext_noop("Sort by '%(label)s' in descending order."),
    gettext_noop("You haven't uploaded any images."),
    gettext_noop(
        'Why not <a class="upload-one-now" href="#tab-upload" data-action="w-tabs#select:prevent"'
        ' data-w-tabs-target="trigger" data-w-tabs-focus-param="true">upload one now</a>?'
    ),
    gettext_noop(
        'Why not <a class="create-one-now" href="#tab-new" data-action="w-tabs#select:prevent"'
        ' data-w-tabs-target="trigger" data-w-tabs-focus-param="true">create one now</a>?'
    ),
    gettext_noop("Grid layout"),
    gettext_noop("List layout"),
    gettext_noop("Oldest"),
    # Wagtail's Chinese keeps "A -> Z": ours says it in words.
    gettext_noop("Title: (A -> Z)"),
    gettext_noop("Title: (Z -> A)"),
    gettext_noop("Usage count: (low to high)"),
    gettext_noop("Usage count: (high to low)"),
    # The admin home's moderation panels.
    gettext_noop("Your pages and snippets in a workflow"),
    gettext_noop("Privacy and access"),
    # The workflow reports' switch, and the page search's counts.
    gettext_noop("By task"),
    gettext_noop("By workflow"),
    gettext_noop("%(start_index)s-%(end_index)s of %(items_count)s %(model_name)s"),
)

PLURALS = (
    ngettext_lazy("There is one matching page", "There are %(counter)s matching pages", "counter"),
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
    ngettext_lazy(
        "This %(model_name)s is referenced %(usage_count)s time.",
        "This %(model_name)s is referenced %(usage_count)s times.",
        "usage_count",
    ),
)
