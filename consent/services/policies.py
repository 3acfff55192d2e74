"""Publishing policy versions: an editorial version must be a wording fix of a material one.

The decision basis (``consent.selectors.policy_basis``) is derived from the order of the
versions, so a save that would change what an existing editorial version amends, or give
a wording fix other retention periods than the version it amends, is refused here: a
retention change is material (DESIGN §1).
"""

from django.core.exceptions import ValidationError

from ..models import ChangeKind, Policy
from ..selectors import POLICY_ORDER, policy_bases_of
from ..wording import duration_words

FIRST_VERSION_MATERIAL = (
    "The first policy version must be material: there is no earlier version for a wording fix "
    "to amend."
)
EDITORIAL_RETENTION = (
    "An editorial version keeps the retention periods of the version it amends ({version}: "
    "{opt_in} if opted in, {opt_out} if not). A retention change is material: choose Material."
)
AMENDED_RETENTION = (
    "Editorial version {version} amends this version and keeps its retention periods: to change "
    "them, publish a new material version."
)
BASIS_MOVED = (
    "This would change which version the editorial version {version} amends (its decisions "
    "would suddenly count under another version). Choose another effective date."
)


def policy_version_validate(policy: Policy) -> None:
    """Raise ``ValidationError`` if saving ``policy`` as it is would break a decision basis."""
    stored = list(Policy.objects.order_by(*POLICY_ORDER))
    # As stored, the version being edited included: without it, a wording fix of this very
    # version would seem to amend another one before the edit, so any edit "moved" it.
    before = policy_bases_of(stored)
    others = [other for other in stored if other.pk != policy.pk]
    ordered = sorted(
        [*others, policy], key=lambda p: (p.effective_at, p.pk or float("inf")), reverse=True
    )
    after = policy_bases_of(ordered)
    errors: dict[str, list[str]] = {}
    basis = after[policy.pk]
    if policy.change_kind == ChangeKind.EDITORIAL:
        material = basis.material
        if material is policy:
            errors.setdefault("change_kind", []).append(FIRST_VERSION_MATERIAL)
        elif (policy.opt_in_retention, policy.opt_out_retention) != (
            material.opt_in_retention,
            material.opt_out_retention,
        ):
            message = EDITORIAL_RETENTION.format(
                version=material.version,
                opt_in=duration_words(material.opt_in_retention),
                opt_out=duration_words(material.opt_out_retention),
            )
            errors.setdefault("opt_in_retention", []).append(message)
    for other in others:
        if other.change_kind != ChangeKind.EDITORIAL:
            continue
        if before[other.pk].material.pk != after[other.pk].material.pk:
            errors.setdefault("effective_at", []).append(BASIS_MOVED.format(version=other.version))
        elif after[other.pk].material is policy and (
            other.opt_in_retention != policy.opt_in_retention
            or other.opt_out_retention != policy.opt_out_retention
        ):
            errors.setdefault("opt_in_retention", []).append(
                AMENDED_RETENTION.format(version=other.version)
            )
    if errors:
        raise ValidationError(errors)
