"""Which pop-up design each jurisdiction group sees, and the lint gate in front of every path.

A design that fails the compliance lint (``consent.compliance``) must never reach a
person in the EU/EEA/UK. Every path by which a design can reach one goes through a
check here: making it a default (``variant_make_default``), saving new copy for a
design in use (``variant_copy_validate``, called by the admin form), and, whatever
admin did, serving it (``variant_choice_guard``, called as each screen renders).
Experiments check their arms at launch and resume with the same lint.
"""

import dataclasses
import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import errors
from ..compliance import failing_findings, jurisdiction_group
from ..models import DesignDefault, JurisdictionGroup, ModalVariant
from ..selectors import default_variant, design_allowed

logger = logging.getLogger(__name__)


def _refuse_failing(variant: ModalVariant, *, message: str) -> None:
    failing = failing_findings(variant)
    if failing:
        raise ValidationError(
            message.format(
                variant=variant.key,
                rules="; ".join(f"{f.rule.title} ({f.rule.citation})" for f in failing),
            ),
            code=failing[0].rule.code,
        )


@transaction.atomic
def variant_make_default(
    variant: ModalVariant,
    *,
    jurisdiction_groups: Iterable[str] | None = None,
    set_by=None,
) -> ModalVariant:
    """Show this design to these jurisdiction groups (all when None) wherever no experiment picks.

    Refused with a ValidationError, changing nothing, when the design is inactive or
    when it fails the compliance lint and the EU/EEA/UK is among the groups.
    """
    groups = list(JurisdictionGroup.values if jurisdiction_groups is None else jurisdiction_groups)
    if not groups or any(group not in JurisdictionGroup.values for group in groups):
        raise ValidationError(errors.DEFAULT_UNKNOWN_GROUP, code="unknown_group")
    if not variant.is_active:
        raise ValidationError(
            errors.DEFAULT_INACTIVE.format(variant=variant.key), code="inactive_design"
        )
    if JurisdictionGroup.EU_EEA_UK in groups:
        _refuse_failing(variant, message=errors.DEFAULT_FAILS_LINT)
    now = timezone.now()
    # Rows locked in primary-key order, so two admins setting defaults serialise here.
    list(DesignDefault.objects.select_for_update().filter(jurisdiction_group__in=groups))
    for group in sorted(groups):
        DesignDefault.objects.update_or_create(
            jurisdiction_group=group,
            defaults={"variant": variant, "set_at": now, "set_by": set_by},
        )
    logger.info(
        "consent design made default",
        extra={
            "variant_id": variant.pk,
            "groups": sorted(groups),
            "by": getattr(set_by, "pk", None),
        },
    )
    return variant


def variant_copy_validate(variant: ModalVariant) -> None:
    """Refuse an edit that would leave the EU/EEA/UK default unshowable: switching it off,
    or new copy that fails the lint.

    ``variant`` carries the edited, unsaved fields. With its default switched off the
    EU/EEA/UK is left a fallback that may be no design at all (when no other active one
    passes the lint), and then every decision screen there fails (``default_variant``).
    A design that is only the rest of the world's default may fail; experiments add
    their own check for live arms.
    """
    if not DesignDefault.objects.filter(
        variant_id=variant.pk, jurisdiction_group=JurisdictionGroup.EU_EEA_UK
    ).exists():
        return  # a new design (no pk yet) is nobody's default either
    if not variant.is_active:
        raise ValidationError(
            errors.DEFAULT_SWITCHED_OFF.format(variant=variant.key), code="default_switched_off"
        )
    _refuse_failing(variant, message=errors.DESIGN_IN_USE_FAILS_LINT)


def variant_choice_guard(*, user, surface: str, chosen):
    """The chosen design, or, if it may not be shown where the user is, the group's default.

    Defence in depth behind every admin check: whatever was configured, a person in
    the EU/EEA/UK (or with no country) never sees a design that fails the lint. A
    replaced arm is dropped from the choice, so no exposure is counted for a design
    the person never saw. ``chosen`` is a ``consent.designs.VariantChoice``.
    """
    group = jurisdiction_group(getattr(user, "country", ""))
    if design_allowed(chosen.variant, group):
        return chosen
    fallback = default_variant(surface, group=group)
    logger.warning(
        "consent design fails the lint for the user's jurisdiction; showing the group default",
        extra={
            "user_id": getattr(user, "pk", None),
            "variant_id": chosen.variant.pk,
            "arm_id": getattr(chosen.arm, "pk", None),
            "fallback_variant_id": fallback.pk,
        },
    )
    return dataclasses.replace(chosen, variant=fallback, arm=None, phase=None)
