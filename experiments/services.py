"""Writes for experiments; `choose_variant` is the one function consent calls."""

from dataclasses import dataclass

from consent.models import ModalVariant

from .models import Arm


@dataclass(frozen=True)
class VariantChoice:
    variant: ModalVariant
    arm: Arm | None = None


def choose_variant(user, surface: str) -> VariantChoice:
    """The design to show this user on this surface.

    Until experiments run, the default variant configured in admin (or in
    ``CONSENT_DEFAULT_VARIANT_KEY``) is shown with no arm.
    """
    from consent.selectors import default_variant

    return VariantChoice(variant=default_variant(surface))


def exposure_record(*, user, choice: VariantChoice) -> None:
    """Note that the design was actually rendered to the user (no-op outside an experiment)."""
    return None
