"""Roll-calls: the versioned policy, one call action, one person in one call, planned spot
checks. States and results are described in ``rollcall/README.md``."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lib.versioned import VersionedRules
from people.models import Office, Person

ROOM_PREFIX = "rollcall-"


def new_room_name() -> str:
    """An unguessable room for one person's call: 96 random bits, lowercase."""
    return ROOM_PREFIX + secrets.token_hex(12)


class RollCallPolicy(VersionedRules):
    """One version of the roll-call rules (``rollcall.policy.RollCallRules`` as JSON). Never
    edited: a change is a new version, which becomes the active one."""

    rules = models.JSONField(_("rules"))
    active = models.BooleanField(_("in use"), default=False)

    # rollcall/migrations/0002 stored the first note in two languages
    stored_notes = {"初始规则 / first rules": _("First rules")}

    class Meta(VersionedRules.Meta):
        verbose_name = _("roll-call policy")
        verbose_name_plural = _("roll-call policies")
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="rollcall_policy_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version}"


class CallKind(models.TextChoices):
    SINGLE = "single", _("One person")
    GROUP = "group", _("Group")
    SPOT = "spot", _("Spot check")


class RollCall(models.Model):
    """One call action by an officer (or a scheduled spot check): one or more targets."""

    kind = models.CharField(_("kind"), max_length=10, choices=CallKind.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    office = models.ForeignKey(
        Office,
        verbose_name=_("office"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    audience = models.CharField(_("who was called"), max_length=200, blank=True)
    created = models.DateTimeField(_("started at"), default=timezone.now)

    class Meta:
        verbose_name = _("roll-call")
        verbose_name_plural = _("roll-calls")
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created:%Y-%m-%d %H:%M}"


class TargetState(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    JOINED = "joined", _("Joined")
    CONFIRMED = "confirmed", _("Confirmed")
    MISSED = "missed", _("Not answered")
    EXCUSED = "excused", _("Excused")
    NOT_POSSIBLE = "not_possible", _("Not possible")


# The call is over for these: no token, no ring, events refused.
CLOSED_STATES = frozenset({TargetState.MISSED, TargetState.EXCUSED, TargetState.NOT_POSSIBLE})
OPEN_STATES = frozenset({TargetState.RINGING, TargetState.JOINED})


class Confirmation(models.TextChoices):
    SEEN = "seen", _("Seen: it is the person")
    NOT_THE_PERSON = "not_the_person", _("Not the person")
    NO_VIDEO = "no_video", _("No video")
    OTHER = "other", _("Other")


class Result(models.TextChoices):
    IN_TIME = "in_time", _("Answered in time")
    LATE = "late", _("Answered late")
    MISSED = "missed", _("Not answered")
    EXCUSED = "excused", _("Excused")
    NOT_POSSIBLE = "not_possible", _("Not possible (video server down)")


class RollCallTargetQuerySet(models.QuerySet):
    def visible_to(self, user) -> RollCallTargetQuerySet:
        """Targets of the persons ``user`` sees (``Person.objects.visible_to``)."""
        return self.filter(person__in=Person.objects.visible_to(user))

    def ringing(self) -> RollCallTargetQuerySet:
        return self.filter(state=TargetState.RINGING)


class RollCallTarget(models.Model):
    """One person in one call: the room, when it rang, what the video server saw, what the
    officer confirmed, and the result with the policy version that decided it."""

    call = models.ForeignKey(
        RollCall, verbose_name=_("roll-call"), on_delete=models.CASCADE, related_name="targets"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="roll_calls"
    )
    state = models.CharField(
        _("state"), max_length=12, choices=TargetState.choices, default=TargetState.RINGING
    )
    room_name = models.CharField(_("room"), max_length=64, unique=True, default=new_room_name)
    participant_id = models.CharField(_("participant id"), max_length=64)
    # participant ids of staff given a token for this room (their events are accepted)
    staff_participants = models.JSONField(default=list, blank=True)
    rung_at = models.DateTimeField(_("rang at"))
    deadline = models.DateTimeField(_("answer by"))
    closes_at = models.DateTimeField(_("room closes at"))
    sms_sent_at = models.DateTimeField(_("text message sent at"), null=True, blank=True)
    joined_at = models.DateTimeField(_("joined at"), null=True, blank=True)
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    confirmation = models.CharField(
        _("officer's confirmation"), max_length=20, choices=Confirmation.choices, blank=True
    )
    confirmation_note = models.TextField(_("note"), blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=12, choices=Result.choices, blank=True)
    policy_version = models.PositiveIntegerField(_("policy version"))
    follow_up_opened_at = models.DateTimeField(null=True, blank=True)

    objects = RollCallTargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("roll-call target")
        verbose_name_plural = _("roll-call targets")
        ordering = ["-rung_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(state="ringing"),
                name="rollcall_one_ringing_per_person",
            ),
            models.UniqueConstraint(fields=["call", "person"], name="rollcall_target_once"),
        ]
        indexes = [
            models.Index(fields=["state", "closes_at"]),
            # the office figures' months (rollcall.figures)
            models.Index(fields=["rung_at"], name="rollcall_target_rung_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.rung_at:%Y-%m-%d %H:%M} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class SpotCheck(models.Model):
    """One drawn spot check: who, when, and the target once it has rung. Unique per person,
    period and number, so drawing again never doubles."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="spot_checks"
    )
    period = models.CharField(_("period"), max_length=10)  # "2026-W49" or "2026-12"
    seq = models.PositiveSmallIntegerField()
    at = models.DateTimeField(_("planned for"))
    policy_version = models.PositiveIntegerField(_("policy version"))
    target = models.OneToOneField(
        RollCallTarget, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("spot check")
        verbose_name_plural = _("spot checks")
        ordering = ["at"]
        constraints = [
            models.UniqueConstraint(fields=["person", "period", "seq"], name="spot_check_once")
        ]
        indexes = [
            models.Index(fields=["started_at", "at"]),
            # the office figures' months (rollcall.figures)
            models.Index(fields=["at"], name="rollcall_spotcheck_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.period}#{self.seq} {self.at:%Y-%m-%d %H:%M}"
