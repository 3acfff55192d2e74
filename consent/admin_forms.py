"""Admin forms for policies and designs: retention in days, surfaces as checkboxes, the lint gate."""

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError

from .models import ModalVariant, Policy, Surface
from .services import policy_version_validate, translation_validate, variant_copy_validate

# The consent screens that render a design (privacy settings and the API show none).
DESIGN_SURFACES = [
    (surface.value, surface.label)
    for surface in (Surface.FIRST_LOGIN, Surface.EXISTING_NOTICE, Surface.DEADLINE_GATE)
]
DAYS_NOT_WHOLE = "Enter a whole number of days, for example 30 or 1825."


class DaysField(forms.IntegerField):
    """A ``DurationField`` edited as a whole number of days, the unit the policy is written in."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("widget", forms.NumberInput(attrs={"step": 1, "style": "width: 8em"}))
        kwargs.setdefault("error_messages", {"invalid": DAYS_NOT_WHOLE})
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, timedelta):
            return value.days
        return value

    def to_python(self, value) -> timedelta | None:
        days = super().to_python(value)
        return None if days is None else timedelta(days=days)

    def validate(self, value) -> None:
        forms.Field.validate(self, value)

    def run_validators(self, value) -> None:
        super().run_validators(None if value is None else value.days)

    def has_changed(self, initial, data) -> bool:
        return super().has_changed(self.prepare_value(initial), data)


class PolicyAdminForm(forms.ModelForm):
    opt_in_retention = DaysField(
        label="Opted-in retention (days)",
        help_text="How long an opted-in user's conversations are kept, in days (1825 = 5 years).",
    )
    opt_out_retention = DaysField(
        label="Opted-out retention (days)",
        help_text="How long conversations are kept when not covered by an opt-in, in days.",
    )

    class Meta:
        model = Policy
        fields = "__all__"  # noqa: DJ007 -- the ModelAdmin chooses the fields (get_fields)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and "change_kind" in self.fields:
            self.fields["change_kind"].initial = None  # asked, never assumed

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        try:
            policy_version_validate(self.instance)
        except ValidationError as error:
            self._update_errors(error)


class ModalVariantAdminForm(forms.ModelForm):
    surfaces = forms.TypedMultipleChoiceField(
        choices=DESIGN_SURFACES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Screens this design may be shown on. Tick none to allow every screen.",
    )

    class Meta:
        model = ModalVariant
        fields = "__all__"  # noqa: DJ007 -- the ModelAdmin chooses the fields (get_fields)

    def _post_clean(self) -> None:
        # The edited copy is on the instance only after the model form builds it.
        super()._post_clean()
        if self.errors:
            return
        try:
            self.validate_copy_in_use(self.instance)
        except ValidationError as error:
            self.add_error(None, error)

    def validate_copy_in_use(self, variant: ModalVariant) -> None:
        """Refuse copy that fails the lint where the design reaches the EU/EEA/UK."""
        variant_copy_validate(variant)


class TranslationAdminForm(forms.ModelForm):
    """One language's consent copy: refused once in use, linted when ticked reviewed."""

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        try:
            translation_validate(self.instance, deleting=bool(self.cleaned_data.get("DELETE")))
        except ValidationError as error:
            self.add_error(None, error)
