"""Which pop-up design is shown where no experiment chooses one."""

from django.db import transaction

from ..models import ModalVariant


@transaction.atomic
def variant_make_default(variant: ModalVariant) -> ModalVariant:
    """Show this design wherever no experiment chooses one (at most one default, by constraint)."""
    for previous in ModalVariant.objects.select_for_update().filter(is_default=True):
        if previous.pk != variant.pk:
            previous.is_default = False
            previous.save(update_fields=["is_default"])  # save(), not update(): memos hear it
    variant.is_default = True
    variant.save(update_fields=["is_default"])
    return variant
