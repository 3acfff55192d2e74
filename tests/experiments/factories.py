"""Factories for experiments; designs are the three seeded by consent's data migration."""

import factory

from consent.models import ModalVariant
from experiments.models import Arm, Experiment


class ExperimentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Experiment

    key = factory.Sequence(lambda n: f"experiment-{n}")
    name = factory.LazyAttribute(lambda e: f"Experiment {e.key}")
    surface = "first_login"
    audience = "all"
    countries = factory.LazyFunction(lambda: ["US"])
    coverage = 1.0


class ArmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Arm

    experiment = factory.SubFactory(ExperimentFactory)
    variant = factory.LazyFunction(lambda: ModalVariant.objects.get(key="two_buttons"))
    weight = 1.0
    is_control = False
    position = factory.Sequence(int)
