"""Which design a consent screen shows: the one question consent asks of experiments.

DESIGN §2: ``experiments`` reads ``consent`` (records for analysis, designs for its arms),
and consent asks experiments only which design a user sees
(``experiments.services.choose_variant(user, surface)``), with the exposure written as the
design renders and the arm a posted form names checked. To keep the import graph one way,
consent owns that question and experiments answers it: ``ExperimentsConfig.ready`` registers
``experiments.services`` here as the design source. Without one, every user sees their
jurisdiction group's default design and no arm is offered (docs/architecture.md).
"""

from dataclasses import dataclass
from typing import Any, Protocol

from .compliance import jurisdiction_group
from .models import ModalVariant
from .selectors import default_variant


@dataclass(frozen=True)
class VariantChoice:
    """The design to render; ``arm`` (an ``experiments.Arm``) and ``phase`` are set only
    inside an experiment."""

    variant: ModalVariant
    arm: Any = None
    phase: int | None = None


class DesignSource(Protocol):
    def choose_variant(self, user, surface: str) -> VariantChoice: ...

    def exposure_record(self, *, user, choice: VariantChoice) -> object: ...

    def arm_offered(self, user, arm) -> bool: ...


def default_choice(user, surface: str) -> VariantChoice:
    """The default design of the user's jurisdiction group (the protected one if unknown)."""
    group = jurisdiction_group(getattr(user, "country", ""))
    return VariantChoice(variant=default_variant(surface, group=group))


class DefaultDesigns:
    """No experiments installed: the group's default design, nothing exposed, no arm."""

    def choose_variant(self, user, surface: str) -> VariantChoice:
        return default_choice(user, surface)

    def exposure_record(self, *, user, choice: VariantChoice) -> None:
        return None

    def arm_offered(self, user, arm) -> bool:
        return False


_source: DesignSource = DefaultDesigns()


def design_source_register(source: DesignSource) -> None:
    global _source
    _source = source


def design_source() -> DesignSource:
    return _source
