"""Consent: the policy, the pop-up designs, and the append-only decision records.

Field sets follow DESIGN §3; a record holds what is needed to *demonstrate*
consent later (GDPR Art. 7(1)), laid out after ISO/IEC TS 27560.
"""

import hashlib
import json
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Choice(models.TextChoices):
    OPT_IN = "opt_in", _("Opted in")
    OPT_OUT = "opt_out", _("Opted out")


class Surface(models.TextChoices):
    FIRST_LOGIN = "first_login", _("First-login screen")
    EXISTING_NOTICE = "existing_notice", _("Existing-user notice")
    DEADLINE_GATE = "deadline_gate", _("Deadline gate")
    SETTINGS = "settings", _("Privacy settings")
    API = "api", _("API")


class JurisdictionGroup(models.TextChoices):
    """Where an account is, as far as the consent rules go (``consent.compliance``)."""

    EU_EEA_UK = "eu_eea_uk", "EU/EEA/UK"
    REST_OF_WORLD = "rest_of_world", "Rest of world"


class Layout(models.TextChoices):
    ACCEPT_WITH_TOGGLE = "accept_with_toggle", "Accept button with a training toggle"
    TWO_BUTTONS = "two_buttons", "Two equal buttons"


class ChangeKind(models.TextChoices):
    EDITORIAL = "editorial", "Editorial (wording fix: decisions carry over, nobody is asked again)"
    MATERIAL = "material", "Material (everyone is asked again, by the deadline)"


class Policy(models.Model):
    """One version of the data policy. The current one is the latest already in effect.

    A *material* version asks everyone again; an *editorial* one amends the latest
    material version before it (its decision basis, ``consent.selectors.policy_basis``):
    decisions under that basis carry over and its deadline and retention stay in force.
    """

    version = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(help_text="Plain-words summary shown in every pop-up design.")
    body = models.TextField(help_text="The full policy text, shown on the public policy page.")
    effective_at = models.DateTimeField(db_index=True)
    decision_deadline = models.DateTimeField()
    opt_in_retention = models.DurationField(default=timedelta(days=1825))
    opt_out_retention = models.DurationField(default=timedelta(days=30))
    change_kind = models.CharField(
        max_length=10,
        choices=ChangeKind.choices,
        default=ChangeKind.MATERIAL,
        help_text=(
            "Material: a change in what is used, how, or for how long. Everyone is asked "
            "again and must answer by this version's deadline. Editorial: wording fixes "
            "only. Decisions under the version it amends carry over, nobody is asked "
            "again, and that version's deadline and retention periods stay in force."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "policies"
        ordering = ["-effective_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision_deadline__gte=models.F("effective_at")),
                name="policy_deadline_after_effective",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"

    def get_absolute_url(self) -> str:
        return reverse("consent:policy", kwargs={"version": self.version})

    @property
    def is_material(self) -> bool:
        return self.change_kind == ChangeKind.MATERIAL

    @property
    def text_digest(self) -> str:
        """SHA-256 of exactly the text a person could read: stored in every record and receipt."""
        canonical = "\n".join([self.version, self.title, self.summary, self.body])
        return hashlib.sha256(canonical.encode()).hexdigest()


class ModalVariant(models.Model):
    """A pop-up design under test; designs are rows of data, rendered by one template."""

    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    layout = models.CharField(max_length=30, choices=Layout.choices)
    toggle_default = models.BooleanField(
        default=False, help_text="Toggle layouts only: whether the training toggle starts on."
    )
    headline = models.CharField(max_length=200)
    body = models.TextField(help_text="What is used, for how long, and where to change it.")
    accept_label = models.CharField(max_length=60, default="Accept")
    decline_label = models.CharField(
        max_length=60, blank=True, help_text="Two-button layouts: the refuse button's label."
    )
    toggle_label = models.CharField(
        max_length=200, blank=True, help_text="Toggle layouts: the switch's label."
    )
    accept_emphasis = models.BooleanField(
        default=False, help_text="Accept drawn larger and highlighted (the announcement's design)."
    )
    learn_more = models.TextField(blank=True, help_text="Shown inside the 'Learn more' disclosure.")
    surfaces = models.JSONField(
        default=list, blank=True, help_text="Surfaces this design may be shown on; empty means all."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_toggle(self) -> bool:
        return self.layout == Layout.ACCEPT_WITH_TOGGLE

    def offered_on(self, surface: str) -> bool:
        return self.is_active and (not self.surfaces or surface in self.surfaces)

    def snapshot_digest(self) -> str:
        """Fingerprint of ``snapshot()``: signed into each form, checked when it comes back."""
        canonical = json.dumps(self.snapshot(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]

    def snapshot(self) -> dict:
        """The copy exactly as shown, frozen into the record that it produced."""
        return {
            "key": self.key,
            "layout": self.layout,
            "toggle_default": self.toggle_default if self.has_toggle else None,
            "headline": self.headline,
            "body": self.body,
            "accept_label": self.accept_label,
            "decline_label": self.decline_label,
            "toggle_label": self.toggle_label,
            "accept_emphasis": self.accept_emphasis,
            "learn_more": self.learn_more,
        }


# Consent copy per language is a table of its own rather than django-modeltranslation's
# extra columns: each translation is reviewed on its own (flag, reviewer, time), is locked
# on its own once someone decided reading it, and adding a language needs no migration.
# English, the site default, is the base copy on the design and the policy themselves.


TRANSLATED_LANGUAGES = [
    (code, name) for code, name in settings.LANGUAGES if code != settings.LANGUAGE_CODE
]


class CopyReview(models.Model):
    """What every translation of consent copy records about its review (abstract)."""

    language = models.CharField(max_length=10, choices=TRANSLATED_LANGUAGES)
    reviewed = models.BooleanField(
        default=False,
        help_text=(
            "Shown to people only once reviewed. Reviewing runs the compliance lint on "
            "this language's copy; a translation that fails a rule the English copy passes "
            "cannot be marked reviewed."
        ),
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class ModalVariantTranslation(CopyReview):
    """One design's copy in one language other than English (``consent.copy``)."""

    variant = models.ForeignKey(ModalVariant, on_delete=models.CASCADE, related_name="translations")
    headline = models.CharField(max_length=200)
    body = models.TextField()
    accept_label = models.CharField(max_length=60)
    decline_label = models.CharField(max_length=60, blank=True)
    toggle_label = models.CharField(max_length=200, blank=True)
    learn_more = models.TextField(blank=True)

    class Meta:
        ordering = ["variant", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "language"], name="one_translation_per_design_language"
            ),
            models.CheckConstraint(
                condition=~Q(language=settings.LANGUAGE_CODE),
                name="design_translation_not_base_language",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.variant_id} in {self.language}"


class PolicyTranslation(CopyReview):
    """One policy version's text in one language other than English (``consent.copy``)."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="translations")
    title = models.CharField(max_length=200)
    summary = models.TextField()
    body = models.TextField()

    class Meta:
        ordering = ["policy", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "language"], name="one_translation_per_policy_language"
            ),
            models.CheckConstraint(
                condition=~Q(language=settings.LANGUAGE_CODE),
                name="policy_translation_not_base_language",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy_id} in {self.language}"


class DesignDefault(models.Model):
    """The design one jurisdiction group sees wherever no running experiment chooses one.

    One row per group (the primary key): set only through
    ``consent.services.variant_make_default``, which refuses an EU/EEA/UK default
    that fails the compliance lint.
    """

    jurisdiction_group = models.CharField(
        max_length=20, choices=JurisdictionGroup.choices, primary_key=True
    )
    variant = models.ForeignKey(ModalVariant, on_delete=models.PROTECT, related_name="defaults")
    set_at = models.DateTimeField()
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["jurisdiction_group"]

    def __str__(self) -> str:
        return f"{self.get_jurisdiction_group_display()}: {self.variant_id}"


class ShownCopy(models.Model):
    """The exact consent dialog a person was shown, stored once and never changed (triggers).

    Content-addressed: the key is the SHA-256 of ``html``, the dialog fragment as sent, with
    only the values of its hidden inputs (CSRF token, signed form token, return address)
    blanked, since nobody sees those and they differ on every rendering. Everything a person
    could see is kept byte for byte (``consent.shown``).
    """

    digest = models.CharField(max_length=64, primary_key=True)
    html = models.TextField()
    created_at = models.DateTimeField(help_text="When this exact dialog was first shown.")
    # The language the dialog's consent copy is in and that copy's digest (consent.copy);
    # null for dialogs stored before copy was kept per language.
    language = models.CharField(max_length=10, null=True, blank=True)
    copy_digest = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        verbose_name = "shown copy"
        verbose_name_plural = "shown copies"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"shown copy {self.digest[:12]}"


class ServedNotice(models.Model):
    """One rendering of a consent surface to a person (Fides' ServedNoticeHistory).

    Append-only (triggers). The decision or "Not now" that answers it links back to it,
    and ``shown_copy`` is exactly what the rendering showed.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="served_notices",
        db_index=False,  # the (user, served_at) index below serves user look-ups
    )
    surface = models.CharField(max_length=20, choices=Surface.choices)
    # No index on the references below: one row is written per rendering of a consent
    # screen, a hot path, and nothing reads served notices by policy, design or arm.
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="+", db_index=False)
    variant = models.ForeignKey(
        ModalVariant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    arm = models.ForeignKey(
        "experiments.Arm",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    language = models.CharField(
        max_length=35,
        help_text=(
            "The language the consent copy was shown in (before per-language copy: the "
            "request's active language)."
        ),
    )
    # The language the person asked for, when it differs from the one shown: no reviewed
    # translation existed, so the site default was shown with a note (consent.copy).
    requested_language = models.CharField(max_length=35, null=True, blank=True)
    copy_digest = models.CharField(max_length=64, null=True, blank=True)
    served_at = models.DateTimeField()
    shown_copy = models.ForeignKey(
        ShownCopy, on_delete=models.PROTECT, related_name="servings", db_index=False
    )

    class Meta:
        ordering = ["-served_at"]
        indexes = [models.Index(fields=["user", "served_at"])]

    def __str__(self) -> str:
        return f"{self.get_surface_display()} shown to user {self.user_id} at {self.served_at:%Y-%m-%d %H:%M}"


class ConsentRecord(models.Model):
    """One decision, never updated or deleted (database triggers refuse both).

    ``record_hash`` chains each user's records: SHA-256 over the canonical
    record plus ``previous.record_hash``, so editing or dropping any row breaks
    verification from that row on, without a global write lock.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="consent_records",
        db_index=False,  # the (user, decided_at) index below serves user look-ups
    )
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="records")
    policy_digest = models.CharField(max_length=64)
    choice = models.CharField(max_length=10, choices=Choice.choices)
    surface = models.CharField(max_length=20, choices=Surface.choices)
    variant = models.ForeignKey(
        ModalVariant, on_delete=models.PROTECT, null=True, blank=True, related_name="records"
    )
    arm = models.ForeignKey(
        "experiments.Arm", on_delete=models.PROTECT, null=True, blank=True, related_name="records"
    )
    shown = models.JSONField(default=dict, help_text="The design's copy exactly as rendered.")
    toggle_default = models.BooleanField(null=True)
    toggle_touched = models.BooleanField(default=False)
    learn_more_opened = models.BooleanField(default=False)
    shown_at = models.DateTimeField()
    decided_at = models.DateTimeField(db_index=True)
    form_key = models.CharField(max_length=64, unique=True, help_text="One-time key of the form.")
    ip_hash = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    locale = models.CharField(max_length=35, blank=True)
    jurisdiction = models.CharField(max_length=2, blank=True)
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_record"
    )
    record_hash = models.CharField(max_length=64, unique=True)
    # The rendering this decision answered and exactly what it showed (null for records
    # made before servings were kept). Both enter record_hash (consent.chain), so the
    # evidence log pins the shown dialog too.
    served_notice = models.OneToOneField(
        ServedNotice, on_delete=models.PROTECT, null=True, blank=True, related_name="record"
    )
    shown_copy = models.ForeignKey(
        ShownCopy,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="records",
        db_index=False,
    )
    # The language the consent copy was shown in, the one asked for (they differ when no
    # reviewed translation existed and the site default was shown instead), and the digest
    # of exactly that language's copy (consent.copy.copy_digest). Null on records made
    # before copy was kept per language; hashed only when set (consent.chain).
    language = models.CharField(max_length=10, null=True, blank=True)
    requested_language = models.CharField(max_length=35, null=True, blank=True)
    copy_digest = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["-decided_at"]
        indexes = [models.Index(fields=["user", "decided_at"])]
        permissions = [
            ("export_evidence", "Can export evidence bundles (manage.py evidence_bundle)"),
        ]
        constraints = [
            # A chain has exactly one first record per user.
            models.UniqueConstraint(
                fields=["user"], condition=Q(previous__isnull=True), name="one_chain_start_per_user"
            ),
            models.CheckConstraint(
                condition=Q(decided_at__gte=models.F("shown_at")), name="decided_after_shown"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_choice_display()} by user {self.user_id} at {self.decided_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("consent:receipt", kwargs={"record_id": self.pk})


class UserConsentState(models.Model):
    """The user's current decision: the one row the gate reads."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="consent_state",
    )
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(max_length=10, choices=Choice.choices)
    latest_record = models.OneToOneField(ConsentRecord, on_delete=models.PROTECT, related_name="+")
    # The chain tip's hash, written with the record: the state is a cache of the chain that
    # training use checks against the records (consent.tip), never a truth of its own.
    tip_hash = models.CharField(max_length=64, blank=True)
    # The first opt-in record of the current unbroken run of opt-ins under this policy:
    # only activity since then is covered by the user's present consent.
    opt_in_since = models.ForeignKey(
        ConsentRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField()

    class Meta:
        verbose_name = "user consent state"

    def __str__(self) -> str:
        return f"user {self.user_id}: {self.choice} under {self.policy_id}"


class NoticeDeferral(models.Model):
    """A "Not now" on the existing-user notice."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_deferrals"
    )
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="deferrals")
    variant = models.ForeignKey(ModalVariant, on_delete=models.PROTECT, null=True, blank=True)
    arm = models.ForeignKey("experiments.Arm", on_delete=models.PROTECT, null=True, blank=True)
    deferred_at = models.DateTimeField()
    hidden_until = models.DateTimeField()
    # The rendering the "Not now" (button or Esc) answered; null for older deferrals.
    served_notice = models.OneToOneField(
        ServedNotice, on_delete=models.PROTECT, null=True, blank=True, related_name="deferral"
    )

    class Meta:
        ordering = ["-deferred_at"]
        indexes = [models.Index(fields=["user", "policy", "hidden_until"])]

    def __str__(self) -> str:
        return f"user {self.user_id} deferred {self.policy_id} at {self.deferred_at:%Y-%m-%d %H:%M}"


class ReminderKind(models.TextChoices):
    SEVEN_DAYS = "7d", "7 days before the deadline"
    ONE_DAY = "1d", "1 day before the deadline"


class DeadlineReminder(models.Model):
    """One reminder email of one kind per user and policy, whatever the schedule does."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT)
    kind = models.CharField(max_length=4, choices=ReminderKind.choices)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "policy", "kind"], name="one_reminder_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder to user {self.user_id} for {self.policy_id}"


class Lockout(models.Model):
    """When an undecided user became locked out by the deadline (bookkeeping, not the gate)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT)
    locked_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "policy"], name="one_lockout_per_user_policy")
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} locked out of {self.policy_id}"


class UsedFormKey(models.Model):
    """A decision-form key already spent on a "Not now" (records hold their own keys)."""

    key = models.CharField(max_length=64, primary_key=True)
    used_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key
