from datetime import timedelta

import factory
from django.utils import timezone

from consent.models import ModalVariant, Policy


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Policy
        django_get_or_create = ["version"]

    version = factory.Sequence(lambda n: f"2026-{n + 1:02d}")
    title = "Consumer terms and privacy policy"
    summary = "We'd like to use your chats to improve our models."
    body = "Full policy text."
    effective_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    decision_deadline = factory.LazyAttribute(lambda p: p.effective_at + timedelta(days=30))
    opt_in_retention = timedelta(days=1825)
    opt_out_retention = timedelta(days=30)


def variant(key: str) -> ModalVariant:
    """One of the three designs the data migration seeds."""
    return ModalVariant.objects.get(key=key)
