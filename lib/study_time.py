"""Study time as a learner reads it on a lesson or makeup page: "已学 5 分钟 / 共 6 分钟".

Whole minutes, seconds only between 1 and 59 ("0 min" before any credit); what has been
studied is rounded down (never claim more than was credited) and what is needed rounded up,
except that credit that has reached the need reads as the need ("6 of 6", not "5 of 6" beside
"Completed"); a need under a minute puts both in seconds.
``static/js/heartbeat.js`` applies the same rules when it updates the counter live; the
template passes it the translated formats (``StudyTime``, ``includes/study_time.html``).
"""

from __future__ import annotations

from dataclasses import dataclass

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
    if done >= total:
        studied = need
    elif total < MINUTE:  # a need under a minute: both in seconds, never "0 min of 36 sec"
        studied = _("%(n)s sec") % {"n": done}
    else:
        studied = duration_text(done)
    return _("Studied %(done)s of %(total)s") % {"done": studied, "total": need}


@dataclass(frozen=True)
class StudyTime:
    """What ``includes/study_time.html`` shows, with the translated formats the script
    needs. (The formats come from here, not from ``{% translate %}``: the template tag looks
    a ``%(name)s`` msgid up with its percent signs doubled and would find no translation.)"""

    done: int
    total: int
    text: str
    sentence: str
    minutes: str
    seconds: str


def study_time(done: int, total: int) -> StudyTime:
    total = max(0, int(total))
    done = min(max(0, int(done)), total)
    return StudyTime(
        done=done,
        total=total,
        text=study_time_text(done, total),
        sentence=_("Studied %(done)s of %(total)s"),
        minutes=_("%(n)s min"),
        seconds=_("%(n)s sec"),
    )
