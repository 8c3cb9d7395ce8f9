from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import Topic
from lib.appendonly import AppendOnlyModelMixin, AppendOnlyQuerySetMixin
from lib.versioned import VersionedRules
from live import jitsi
from live.attendance import PARTICIPANT_KINDS, STORED_VERSION, stored_form
from people.models import Category, Office, OfficeKind, Person, PersonStatus
from people.roles import Role, roles_of


class Provider(models.TextChoices):
    JAAS = "jaas", _("JaaS (8x8)")
    PROSODY = "prosody", _("Self-hosted Jitsi (prosody)")


class EventType(models.TextChoices):
    """Event names exactly as each provider sends them (JaaS upper case, prosody ``muc-*``)."""

    PARTICIPANT_JOINED = "PARTICIPANT_JOINED", _("Participant joined")
    PARTICIPANT_LEFT = "PARTICIPANT_LEFT", _("Participant left")
    ROOM_CREATED = "ROOM_CREATED", _("Room created")
    ROOM_DESTROYED = "ROOM_DESTROYED", _("Room destroyed")
    RECORDING_UPLOADED = "RECORDING_UPLOADED", _("Recording uploaded")
    OCCUPANT_JOINED = "muc-occupant-joined", _("Occupant joined")
    OCCUPANT_LEFT = "muc-occupant-left", _("Occupant left")
    MUC_ROOM_CREATED = "muc-room-created", _("Room created (prosody)")
    MUC_ROOM_DESTROYED = "muc-room-destroyed", _("Room destroyed (prosody)")


JAAS_EVENT_TYPES = frozenset(
    {
        EventType.PARTICIPANT_JOINED,
        EventType.PARTICIPANT_LEFT,
        EventType.ROOM_CREATED,
        EventType.ROOM_DESTROYED,
        EventType.RECORDING_UPLOADED,
    }
)
PROSODY_EVENT_TYPES = frozenset(
    {
        EventType.OCCUPANT_JOINED,
        EventType.OCCUPANT_LEFT,
        EventType.MUC_ROOM_CREATED,
        EventType.MUC_ROOM_DESTROYED,
    }
)

ROOM_NAME_MAX = 200
USER_ID_MAX = 200
DEDUPE_KEY_MAX = 220


class PresenceEventQuerySet(AppendOnlyQuerySetMixin, models.QuerySet):
    def for_room(self, room_name: str) -> PresenceEventQuerySet:
        return self.filter(room_name=room_name)

    def for_user(self, user_id: str) -> PresenceEventQuerySet:
        return self.filter(user_id=user_id)


class PresenceEvent(AppendOnlyModelMixin, models.Model):
    """One event exactly as Jitsi's server (JaaS or prosody ``event_sync``) posted it.

    Append-only: the raw body is evidence for attendance, so rows are never updated or
    deleted by the application. ``dedupe_key`` is unique, so a replayed webhook is stored
    once. ``user_id`` is the opaque id from the Jitsi JWT's ``context.user.id`` (never a
    display name). Only events of a known lecture's room and, for participant events, of a
    participant of that lecture are accepted (``live.services.check_presence_event``).
    """

    provider = models.CharField(_("provider"), max_length=10, choices=Provider.choices)
    event_type = models.CharField(_("event type"), max_length=40, choices=EventType.choices)
    room_name = models.CharField(_("room"), max_length=ROOM_NAME_MAX, db_index=True)
    user_id = models.CharField(_("user id"), max_length=USER_ID_MAX, blank=True, db_index=True)
    occurred_at = models.DateTimeField(_("provider time"))
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    payload = models.JSONField(_("raw body"))
    dedupe_key = models.CharField(_("dedupe key"), max_length=DEDUPE_KEY_MAX, unique=True)
    # What ``live.attendance.read_body`` makes of the payload (``stored_form``), set on insert,
    # so a recompute reads a few columns instead of decoding every body. NULL version: read
    # the payload (a body that does not fit, or a row stored by ``bulk_create``).
    merge_version = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    merge_kind = models.PositiveSmallIntegerField(default=0, editable=False)
    merge_at = models.BigIntegerField(null=True, blank=True, editable=False)
    merge_joined_at = models.BigIntegerField(null=True, blank=True, editable=False)
    merge_scope = models.TextField(blank=True, default="", editable=False)
    merge_connection = models.TextField(blank=True, default="", editable=False)
    merge_key = models.TextField(blank=True, default="", editable=False)

    objects = PresenceEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("presence event")
        verbose_name_plural = _("presence events")
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["room_name", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.room_name} {self.user_id}".rstrip()

    def save(self, *args, **kwargs):
        if self.pk is None:
            self.set_merge_fields()
        super().save(*args, **kwargs)

    def set_merge_fields(self) -> None:
        """Fill the ``merge_*`` columns from ``payload`` (before inserting; ``save`` does it,
        a ``bulk_create`` caller may). A body whose reading does not fit them, or names a
        participant other than ``user_id``, keeps a NULL version and is read from its body."""
        form = merge_fields(self.payload, self.user_id)
        for name, value in form.items():
            setattr(self, name, value)


def merge_fields(payload, user_id: str) -> dict:
    """The ``PresenceEvent.merge_*`` column values for a body stored with ``user_id``."""
    form = stored_form(payload) if isinstance(payload, dict) else None
    if form is None or (form.kind in PARTICIPANT_KINDS and form.user != user_id):
        return {"merge_version": None}
    return {
        "merge_version": STORED_VERSION,
        "merge_kind": form.kind,
        "merge_at": form.at,
        "merge_joined_at": form.joined_at,
        "merge_scope": form.scope,
        "merge_connection": form.connection,
        "merge_key": form.key,
    }


# --- Lectures -----------------------------------------------------------------------------------


class LectureMode(models.TextChoices):
    ONLINE = "online", _("Online")
    CENTRE = "centre", _("At the corrections centre")
    BOTH = "both", _("Online and at the centre")


# The lecture page offers the video room, and the roster socket admits attendees, from this
# long before the start.
JOIN_OPENS_BEFORE = dt.timedelta(minutes=15)


class AudienceCategory(models.Model):
    """One supervision category a lecture can be addressed to (three rows, from a migration).

    A table rather than a JSON list so that "lectures for a strict-category person" is a join
    on every database."""

    code = models.CharField(
        _("supervision category"), max_length=10, choices=Category.choices, unique=True
    )

    class Meta:
        verbose_name = _("supervision category")
        verbose_name_plural = _("supervision categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return str(self.get_code_display())


def validate_recording_url(value: str) -> None:
    """A recording must play inside the page's Content-Security-Policy: a path on this site,
    or an https URL whose origin is listed in ``CSP_MEDIA_SRC``."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return
    parts = urlsplit(value)
    origin = f"{parts.scheme}://{parts.netloc}"
    if parts.scheme == "https" and parts.netloc and origin in settings.CSP_MEDIA_SRC:
        return
    raise ValidationError(
        _(
            "Use a path on this site, or an https address on a video site the technical staff "
            "have allowed. Ask them to allow a new one."
        ),
        code="recording_origin",
    )


def _office_prefixes(path: str) -> list[str]:
    """The materialised paths of an office and of every office above it."""
    step = Office.steplen
    return [path[:end] for end in range(step, len(path) + 1, step)]


def _through(field: str):
    return Lecture._meta.get_field(field).remote_field.through.objects.filter(
        lecture=OuterRef("pk")
    )


def _wide_scope(user, roles) -> bool:
    """Whether ``user`` sees a bureau's persons (most of any lecture's audience)."""
    return bool(
        roles & {Role.ADMINISTRATOR, Role.OFFICER}
        and user.office_id
        and user.office.kind == OfficeKind.BUREAU
    )


def _audience_includes(persons, *, wide: bool) -> Q | Exists:
    """Lectures whose fixed audience includes one of ``persons``: the same rule in the SQL
    shape that is fast for the scope. A narrow scope (a caseload, a justice office) lists the
    lectures of its few persons' audience rows; a wide one (a bureau) asks each lecture for
    a first audience row in scope, which it finds at once (bench/bench_staff_pages.py,
    50,000 persons: the administrator's lecture list 1,000 → 88 ms on SQLite, the officer's
    52 ms one way and 140 ms the other). ``tests/live/test_lecture_scope.py`` checks both
    shapes give the same lectures."""
    if wide:
        return Exists(LectureAudience.objects.filter(lecture=OuterRef("pk"), person__in=persons))
    return Q(pk__in=LectureAudience.objects.filter(person__in=persons).values("lecture_id"))


class LectureQuerySet(models.QuerySet):
    def upcoming(self, now: dt.datetime | None = None) -> LectureQuerySet:
        """Lectures that have not ended yet (including one under way), soonest first."""
        return self.filter(end__gt=now or timezone.now()).order_by("start", "pk")

    def ended(self, now: dt.datetime | None = None) -> LectureQuerySet:
        return self.filter(end__lte=now or timezone.now())

    def unresolved(self) -> LectureQuerySet:
        return self.filter(audience_resolved_at__isnull=True)

    def for_person(self, person: Person) -> LectureQuerySet:
        """Lectures whose audience holds ``person``: the fixed list once resolved, else the
        lecture's audience rule (offices and categories, or named persons)."""
        return self.filter(_audience_condition(person))

    def joinable_by(self, person: Person, now: dt.datetime | None = None) -> LectureQuerySet:
        """Lectures ``person`` may still be named in although their audience does not hold
        the person (for instance a lecture for another supervision category): not started by
        ``now``, audience not fixed yet, and held for the person's area, i.e. the audience
        rule names the person's office or an office above it, or names no office but some
        category."""
        offices = _through("audience_offices")
        held_for_area = Exists(
            offices.filter(office__path__in=_office_prefixes(person.office.path))
        ) | (~Exists(offices) & Exists(_through("audience_categories")))
        return (
            self.unresolved()
            .filter(start__gt=now or timezone.now())
            .exclude(pk__in=self.for_person(person).values("pk"))
            .filter(held_for_area)
        )

    def add_named_person(self, person: Person) -> list[int]:
        """Name ``person`` in the audience of those of these lectures whose audience is not
        fixed yet, and return their pks. They are row-locked first, so ``do_resolve_audience``
        cannot fix an audience meanwhile: call inside ``transaction.atomic``."""
        locked = list(self.select_for_update().unresolved().values_list("pk", flat=True))
        named = Lecture.audience_persons.through
        named.objects.bulk_create(
            [named(lecture_id=pk, person_id=person.pk) for pk in locked], ignore_conflicts=True
        )
        return locked

    def visible_to(self, user) -> LectureQuerySet:
        """Lectures ``user`` may see.

        lecturer → own lectures; officer and administrator → lectures whose audience includes
        a person they see, or (before the list is fixed) offices overlapping their office
        subtree; counselor → lectures with a person of their caseload; learner → lectures whose
        audience includes them. Roles combine by union."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        roles = roles_of(user)
        conditions = Q(lecturer=user)
        if roles & {Role.ADMINISTRATOR, Role.OFFICER, Role.COUNSELOR}:
            persons = Person.objects.visible_to(user)
            conditions |= _audience_includes(persons, wide=_wide_scope(user, roles))
            conditions |= Q(audience_resolved_at__isnull=True) & Exists(
                _through("audience_persons").filter(person__in=persons)
            )
        if roles & {Role.ADMINISTRATOR, Role.OFFICER} and user.office_id:
            path = user.office.path
            has_offices = Exists(_through("audience_offices"))
            overlapping = Exists(
                _through("audience_offices").filter(
                    Q(office__path__startswith=path) | Q(office__path__in=_office_prefixes(path))
                )
            )
            has_group = has_offices | Exists(_through("audience_categories"))
            conditions |= (
                Q(audience_resolved_at__isnull=True) & has_group & (~has_offices | overlapping)
            )
        if Role.LEARNER in roles:
            person = Person.objects.filter(user=user).select_related("office").first()
            if person is not None:
                conditions |= _audience_condition(person)
        return self.filter(conditions)

    def editable_by(self, user) -> LectureQuerySet:
        """Lectures ``user`` may change: a lecturer their own, an administrator those in scope."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        if Role.ADMINISTRATOR in roles_of(user):
            return self.visible_to(user)
        return self.filter(lecturer=user)


def _audience_condition(person: Person) -> Q:
    resolved = Q(audience_resolved_at__isnull=False) & Q(
        pk__in=LectureAudience.objects.filter(person=person).values("lecture_id")
    )
    if person.status != PersonStatus.ACTIVE:
        return resolved
    has_offices = Exists(_through("audience_offices"))
    has_categories = Exists(_through("audience_categories"))
    office_matches = ~has_offices | Exists(
        _through("audience_offices").filter(office__path__in=_office_prefixes(person.office.path))
    )
    category_matches = ~has_categories | Exists(
        _through("audience_categories").filter(audiencecategory__code=person.category)
    )
    named = Exists(_through("audience_persons").filter(person=person))
    in_rule = ((has_offices | has_categories) & office_matches & category_matches) | named
    return resolved | (Q(audience_resolved_at__isnull=True) & in_rule)


class Lecture(models.Model):
    """A live lecture on Jitsi (and/or at the corrections centre) for a fixed audience.

    The audience is a rule (offices and their sub-offices, narrowed to supervision categories
    if any are chosen, plus named persons) until the lecture starts; then
    ``live.audience.do_resolve_audience`` fixes it as ``LectureAudience`` rows, which decide
    attendance from then on."""

    title = models.CharField(_("title"), max_length=200)
    topic = models.CharField(_("topic"), max_length=20, choices=Topic.choices, default=Topic.LEGAL)
    description = models.TextField(_("what the lecture is about"), blank=True)
    lecturer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lecturer"),
        on_delete=models.PROTECT,
        related_name="lectures",
    )
    lecturer_title = models.CharField(
        _("lecturer's title"), max_length=40, blank=True, help_text=_("For example: 检察官, 律师")
    )
    lecturer_name = models.CharField(
        _("lecturer's name as shown"),
        max_length=100,
        blank=True,
        help_text=_("Leave empty to show the lecturer's account name."),
    )
    start = models.DateTimeField(_("starts at"))
    end = models.DateTimeField(_("ends at"))
    mode = models.CharField(
        _("where"), max_length=10, choices=LectureMode.choices, default=LectureMode.ONLINE
    )
    location = models.CharField(_("place at the centre"), max_length=200, blank=True)
    room_name = models.CharField(_("video room"), max_length=ROOM_NAME_MAX, unique=True)
    recording_url = models.CharField(
        _("recording link"),
        max_length=500,
        blank=True,
        validators=[validate_recording_url],
        help_text=_(
            "A video file on this site (a path such as /documents/12/lecture.mp4) or an https "
            "address on a host allowed in CSP_MEDIA_SRC."
        ),
    )
    audience_offices = models.ManyToManyField(
        Office,
        verbose_name=_("offices in the audience"),
        blank=True,
        related_name="+",
        help_text=_("Everyone under supervision in these offices (and the offices below them)."),
    )
    audience_categories = models.ManyToManyField(
        AudienceCategory,
        verbose_name=_("supervision categories"),
        blank=True,
        related_name="+",
        help_text=_("Only persons of these categories; none chosen means every category."),
    )
    audience_persons = models.ManyToManyField(
        Person, verbose_name=_("named persons"), blank=True, related_name="+"
    )
    audience_resolved_at = models.DateTimeField(_("audience fixed at"), null=True, blank=True)
    required = models.BooleanField(
        _("attendance required"),
        default=True,
        help_text=_("Absent or left-early persons get a makeup assignment."),
    )
    attendance_computed_at = models.DateTimeField(
        _("attendance computed at"), null=True, blank=True
    )
    attendance_stale = models.BooleanField(
        _("new events since the last computation"), default=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LectureQuerySet.as_manager()

    class Meta:
        verbose_name = _("lecture")
        verbose_name_plural = _("lectures")
        ordering = ["-start", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="lecture_end_after_start"
            )
        ]
        indexes = [models.Index(fields=["start"]), models.Index(fields=["end"])]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        if not self.room_name:
            # an unguessable name: knowing a lecture exists must not let anyone join it
            self.room_name = jitsi.room_name()
        super().save(*args, **kwargs)

    @property
    def speaker(self) -> str:
        """Title and name, once each: "民警 孙伟" (a name already starting with the title, as
        an account named "检察官 赵刚", is not prefixed again)."""
        name = self.lecturer_name or (self.lecturer.get_full_name() if self.lecturer_id else "")
        title = self.lecturer_title.strip()
        if not title or name.startswith(title):
            return name.strip()
        return f"{title} {name}".strip()

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start

    @property
    def online(self) -> bool:
        return self.mode in (LectureMode.ONLINE, LectureMode.BOTH)

    def has_ended(self, now: dt.datetime | None = None) -> bool:
        return self.end <= (now or timezone.now())

    def has_started(self, now: dt.datetime | None = None) -> bool:
        return self.start <= (now or timezone.now())


class LectureAudience(models.Model):
    """One person of a lecture's fixed audience, with the opaque id their Jitsi token carries
    (``live.jitsi.participant_id``), so an event's ``context.user.id`` maps back in one lookup."""

    lecture = models.ForeignKey(Lecture, on_delete=models.CASCADE, related_name="audience")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="lecture_audiences")
    participant_id = models.CharField(max_length=USER_ID_MAX)

    class Meta:
        verbose_name = _("audience member")
        verbose_name_plural = _("audience members")
        constraints = [
            models.UniqueConstraint(fields=["lecture", "person"], name="lecture_audience_unique")
        ]
        indexes = [
            models.Index(fields=["lecture", "participant_id"]),
            # A scope's lectures ("which lectures have one of these persons"): read from the
            # index alone, person by person, instead of scanning every audience row.
            models.Index(fields=["person", "lecture"], name="lecture_audience_person_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.lecture_id}/{self.person_id}"


# --- Attendance -------------------------------------------------------------------------------


class AttendancePolicy(VersionedRules):
    """One version of the attendance rules (``live.attendance.PolicyRules`` as JSON).

    Versions are never edited: a change is a new version, which becomes the active one; each
    ``Attendance`` row keeps the version that decided it."""

    rules = models.JSONField(_("rules"))
    active = models.BooleanField(_("in use"), default=False)

    # live/migrations/0003 stored the first note in two languages
    stored_notes = {"初始规则 / first rules": _("First rules")}

    class Meta(VersionedRules.Meta):
        verbose_name = _("attendance policy")
        verbose_name_plural = _("attendance policies")
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="attendance_policy_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version}"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("Present")
    LATE = "late", _("Late")
    LEFT_EARLY = "left_early", _("Left early")
    ABSENT = "absent", _("Absent")
    EXCUSED = "excused", _("Excused")


ATTENDED = frozenset({AttendanceStatus.PRESENT, AttendanceStatus.LATE})
NEEDS_MAKEUP = frozenset({AttendanceStatus.ABSENT, AttendanceStatus.LEFT_EARLY})


class AttendanceQuerySet(models.QuerySet):
    def visible_to(self, user) -> AttendanceQuerySet:
        """Rows of persons ``user`` sees (``Person.objects.visible_to``), and the lecturer's
        own lectures' rosters."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(
            Q(person__in=Person.objects.visible_to(user)) | Q(lecture__lecturer=user)
        )

    def for_person(self, person: Person) -> AttendanceQuerySet:
        return self.filter(person=person)

    def with_effective_status(self) -> AttendanceQuerySet:
        return self.annotate(effective=Coalesce(NullIf("override_status", Value("")), "status"))


class Attendance(models.Model):
    """A person's attendance of one lecture, as computed from the video server's events by
    the policy version it names, with the figures that decided it. An override (by the
    lecturer or an officer, with a reason) replaces the computed status without erasing it."""

    lecture = models.ForeignKey(Lecture, on_delete=models.CASCADE, related_name="attendance")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="attendance")
    status = models.CharField(_("computed status"), max_length=12, choices=AttendanceStatus.choices)
    seconds = models.PositiveIntegerField(_("seconds present"), default=0)
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    policy = models.ForeignKey(
        AttendancePolicy, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="+"
    )
    computed_at = models.DateTimeField(_("computed at"))
    override_status = models.CharField(
        _("status set by staff"), max_length=12, choices=AttendanceStatus.choices, blank=True
    )
    override_reason = models.TextField(_("reason"), blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    override_at = models.DateTimeField(_("set at"), null=True, blank=True)

    objects = AttendanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["lecture", "person"], name="attendance_unique")
        ]

    def __str__(self) -> str:
        return f"{self.lecture_id}/{self.person_id}: {self.effective_status}"

    @property
    def effective_status(self) -> str:
        return self.override_status or self.status

    def get_effective_status_display(self) -> str:
        return str(AttendanceStatus(self.effective_status).label)

    @property
    def minutes(self) -> int:
        return self.seconds // 60


# --- Makeups ----------------------------------------------------------------------------------


class MakeupKind(models.TextChoices):
    RECORDING = "recording", _("Watch the recording")
    LATER_LECTURE = "later_lecture", _("Attend a later lecture on the same topic")


class MakeupQuerySet(models.QuerySet):
    def open(self) -> MakeupQuerySet:
        return self.filter(completed_at__isnull=True)

    def for_person(self, person: Person) -> MakeupQuerySet:
        return self.filter(person=person)

    def visible_to(self, user) -> MakeupQuerySet:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(person__in=Person.objects.visible_to(user))


class Makeup(models.Model):
    """What an absent or left-early person does instead: watch the recording with verified
    time, or attend a later lecture on the same topic. Completing it writes the lecture's
    participation to the ledger as a makeup."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="makeups")
    lecture = models.ForeignKey(Lecture, on_delete=models.CASCADE, related_name="makeups")
    kind = models.CharField(_("how"), max_length=20, choices=MakeupKind.choices)
    due_date = models.DateField(_("due date"))
    created_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_how = models.CharField(
        _("completed by"), max_length=20, choices=MakeupKind.choices, blank=True
    )
    completed_lecture = models.ForeignKey(
        Lecture,
        verbose_name=_("completed at the lecture"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="completed_makeups",
    )
    credited_seconds = models.PositiveIntegerField(_("recording time credited"), default=0)
    notified_at = models.DateTimeField(_("person told at"), null=True, blank=True)

    objects = MakeupQuerySet.as_manager()

    class Meta:
        verbose_name = _("makeup")
        verbose_name_plural = _("makeups")
        ordering = ["due_date", "pk"]
        constraints = [models.UniqueConstraint(fields=["person", "lecture"], name="makeup_unique")]

    def __str__(self) -> str:
        return f"{self.person_id} ↺ {self.lecture_id}"

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None


class MakeupWatchSession(models.Model):
    """A run of one (makeup, tab)'s heartbeats while the recording plays; the same rows as
    ``learning.StudySession`` keeps for lessons, credited by ``participation.crediting``."""

    makeup = models.ForeignKey(Makeup, on_delete=models.CASCADE, related_name="watch_sessions")
    tab = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    last_beat_at = models.DateTimeField()
    is_open = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("recording watch session")
        verbose_name_plural = _("recording watch sessions")
        constraints = [
            models.UniqueConstraint(
                fields=["makeup", "tab"],
                condition=Q(is_open=True),
                name="makeup_watch_one_open_per_tab",
            )
        ]

    def __str__(self) -> str:
        return f"{self.makeup_id}/{self.tab}"


# --- Presence checks (live roster) and check-ins at the centre --------------------------------


class PresenceCheck(models.Model):
    """A lecturer's "are you still here?" sent to everyone present at that moment. Each
    expected attendee gets a ``PresenceCheckResponse``: answered within the window, or missed."""

    lecture = models.ForeignKey(Lecture, on_delete=models.CASCADE, related_name="presence_checks")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("answer by"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("presence check")
        verbose_name_plural = _("presence checks")
        ordering = ["lecture", "sent_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("sent_at")), name="presence_check_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.lecture_id} @ {self.sent_at:%H:%M:%S}"


class CheckResponseStatus(models.TextChoices):
    ASKED = "asked", _("Asked")
    ANSWERED = "answered", _("Answered")
    MISSED = "missed", _("Missed")


class PresenceCheckResponse(models.Model):
    presence_check = models.ForeignKey(
        PresenceCheck, on_delete=models.CASCADE, related_name="responses"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=CheckResponseStatus.choices,
        default=CheckResponseStatus.ASKED,
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("presence check answer")
        verbose_name_plural = _("presence check answers")
        constraints = [
            models.UniqueConstraint(
                fields=["presence_check", "person"], name="presence_response_unique"
            )
        ]
        indexes = [models.Index(fields=["person", "status"])]

    def __str__(self) -> str:
        return f"{self.presence_check_id}/{self.person_id}: {self.status}"


class CheckInMethod(models.TextChoices):
    QR = "qr", _("Scanned the code at the centre")
    STAFF = "staff", _("Marked by staff")


class CentreCheckIn(models.Model):
    """Presence at the centre for an in-person lecture: a scan of the rotating code, or a
    staff member's mark from the audience list. Counted as presence from ``checked_in_at``
    (clipped to the lecture) until ``checked_out_at`` or the lecture's end."""

    lecture = models.ForeignKey(Lecture, on_delete=models.CASCADE, related_name="check_ins")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    method = models.CharField(_("how"), max_length=10, choices=CheckInMethod.choices)
    checked_in_at = models.DateTimeField(_("arrived at"))
    checked_out_at = models.DateTimeField(_("left at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("check-in at the centre")
        verbose_name_plural = _("check-ins at the centre")
        constraints = [
            models.UniqueConstraint(fields=["lecture", "person"], name="centre_check_in_unique")
        ]

    def __str__(self) -> str:
        return f"{self.lecture_id}/{self.person_id} {self.method}"
