"""Rows stored before notifications kept their source text (0003) hold only the rendered text,
almost always Chinese, so an English reader saw Chinese. Where a row's title and text are
exactly one of the fixed messages the platform sent, rendered in Chinese or English, its
source texts and values are recovered and it is translated when shown like a new row.
Anything else (texts an administrator edited, a leave decision assembled from parts, a
rendering that does not match exactly) is left as stored: shown as it was written.

The messages and their Chinese renderings are copied here as they were when this migration
was written; the migration never reads the live catalogue or app code.
"""

import re

from django.db import migrations

# (title source, text source, Chinese title, Chinese text)
KNOWN = [
    (
        "Lecture soon: %(title)s",
        "Your lecture starts at %(time)s. Please open the lecture page a few minutes early; "
        "your attendance is recorded by the video server.",
        "讲座即将开始：%(title)s",
        "您的讲座将在 %(time)s 开始。请提前几分钟打开讲座页面；出勤由视频服务器自动记录。",
    ),
    (
        "Makeup for a lecture: %(title)s",
        "You missed part of this lecture. Please make it up by %(date)s: watch the recording "
        "or attend a later lecture on the same topic.",
        "讲座补课：%(title)s",
        "这次讲座您没有完整参加。请在 %(date)s 前补课：观看讲座回放，或参加之后同主题的讲座。",
    ),
    (
        "A short questionnaire is waiting for you",
        "Please answer it by %(due)s. It takes a few minutes; there are no right or wrong "
        "answers, and your counselor will go through it with you.",
        "有一份简短的问卷等您填写",
        "请在 %(due)s 前填写。只需几分钟，答案没有对错之分，您的心理咨询师会和您一起看结果。",
    ),
    (
        "Your support plan is ready",
        "Please read it and confirm that you have seen it.",
        "您的帮扶计划已经制定好了",
        "请阅读计划，并确认您已看过。",
    ),
    (
        "Your case officer has asked for leave for you",
        "“%(requirement)s”: you will be told of the decision.",
        "您的矫正工作人员已为您申请请假",
        "“%(requirement)s”：有结果后会通知您。",
    ),
    (
        "A questionnaire result still needs follow-up",
        "A questionnaire result that needs attention has not been acknowledged by a counselor "
        "for more than a day. Please open it and make sure someone follows up.",
        "有一份问卷结果仍需跟进",
        "一份需要关注的问卷结果已超过一天没有心理咨询师确认。请打开查看，并确保有人跟进。",
    ),
    (
        "A questionnaire result needs your attention",
        "Please open the result and acknowledge it.",
        "有一份问卷结果需要您关注",
        "请打开结果查看并确认。",
    ),
]

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def pattern(rendering: str) -> re.Pattern:
    """``rendering`` with each ``%(name)s`` as a named group, everything else literal."""
    parts, last = [], 0
    for match in PLACEHOLDER.finditer(rendering):
        parts.append(re.escape(rendering[last : match.start()]))
        parts.append(f"(?P<{match.group(1)}>.+?)")
        last = match.end()
    parts.append(re.escape(rendering[last:]))
    return re.compile("".join(parts), re.DOTALL)


def _candidates():
    for title_source, body_source, title_zh, body_zh in KNOWN:
        for title, body in ((title_zh, body_zh), (title_source, body_source)):
            yield title_source, body_source, pattern(title), pattern(body)


def recover(title: str, body: str, candidates) -> tuple[str, str, dict] | None:
    """The source texts and values that render exactly ``title`` and ``body``, or None."""
    for title_source, body_source, title_re, body_re in candidates:
        title_match = title_re.fullmatch(title)
        body_match = body_re.fullmatch(body) if title_match else None
        if body_match is None:
            continue
        params = title_match.groupdict()
        if any(params.get(k, v) != v for k, v in body_match.groupdict().items()):
            continue
        params.update(body_match.groupdict())
        return title_source, body_source, params
    return None


def forward(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    candidates = list(_candidates())
    legacy = Notification.objects.filter(title_source="", body_source="", params={})
    changed = []
    for row in legacy.only("pk", "title", "body").iterator(chunk_size=1000):
        found = recover(row.title, row.body, candidates)
        if found is None:
            continue
        row.title_source, row.body_source, row.params = found
        changed.append(row)
        if len(changed) >= 500:
            Notification.objects.bulk_update(changed, ["title_source", "body_source", "params"])
            changed = []
    if changed:
        Notification.objects.bulk_update(changed, ["title_source", "body_source", "params"])


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_notification_source_texts"),
    ]

    operations = [
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
