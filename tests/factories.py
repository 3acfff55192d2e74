"""Factories shared by every test package (``tests/consent/factories.py`` adds consent ones)."""

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import User
from conversations.models import Conversation, Message, Role

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    country = ""
    date_joined = factory.LazyFunction(timezone.now)
    password = factory.django.Password(PASSWORD)


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Conversation {n}")
    created_at = factory.LazyFunction(timezone.now)
    last_activity_at = factory.LazyAttribute(lambda c: c.created_at)
    retain_until = factory.LazyAttribute(lambda c: c.last_activity_at + timedelta(days=30))


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    role = Role.USER
    content = factory.Sequence(lambda n: f"Message number {n}")
    created_at = factory.LazyAttribute(lambda m: m.conversation.last_activity_at)


def settings_decision(user, policy, choice: str = "opt_in"):
    """A decision recorded as the privacy-settings change form records it (no design), now:
    the one way tests put a user's choice in place without rendering a screen."""
    import secrets

    from django.utils import timezone

    from consent.models import Surface
    from consent.services import consent_record_create

    return consent_record_create(
        user=user,
        policy=policy,
        choice=choice,
        surface=Surface.SETTINGS,
        form_key=secrets.token_hex(16),
        shown_at=timezone.now(),
    )
