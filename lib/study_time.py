"""Study time as a learner reads it on a lesson or makeup page: "已学 5 分钟 / 共 6 分钟".

Whole minutes, seconds only between 1 and 59 ("0 min" before any credit); what has been studied is rounded down (never
claim more than was credited) and what is needed rounded up, except that credit that has
reached the need reads as the need ("6 of 6", not "5 of 6" beside "Completed").
``static/js/heartbeat.js`` applies the same rules when it updates the counter live; the
template passes it the translated formats (``includes/study_time.html``).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

MINUTE = 60


def duration_text(seconds: int, *, round_up: bool = False) -> str:
    seconds = max(0, int(seconds))
    if 0 < seconds < MINUTE:
        return _("%(n)s sec") % {"n": seconds}
    minutes = -(-seconds // MINUTE) if round_up else seconds // MINUTE
    return _("%(n)s min") % {"n": minutes}


def study_time_text(done: int, total: int) -> str:
    """``done`` of ``total`` seconds, for example "Studied 0 min of 6 min"."""
    total = max(0, int(total))
    done = min(max(0, int(done)), total)
    need = duration_text(total, round_up=True)
    studied = need if done >= total else duration_text(done)
    return _("Studied %(done)s of %(total)s") % {"done": studied, "total": need}
