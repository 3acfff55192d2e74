"""Demo data for a fresh machine: an admin, users in every consent situation, and
conversations of different ages. Idempotent: running it again changes nothing
that exists already."""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from consent.models import (
    Choice,
    ModalVariant,
    ModalVariantTranslation,
    Policy,
    PolicyTranslation,
    Surface,
)
from consent.selectors import default_variant
from consent.services import consent_record_create, translation_save
from conversations.models import Conversation, Message, Role
from conversations.services import conversation_retention_recompute_for_user, message_post
from demo.copy_translations import POLICY, design_translations
from experiments.demo import seed_experiment_demo

DEMO_PASSWORD = "demo-pass-2026"
ADMIN_EMAIL = "admin@example.com"
STAFF = [
    ("privacy@example.com", "Privacy officer"),
    ("analyst@example.com", "Product analyst"),
    ("support@example.com", "Support"),
]

POLICY_BODY = """\
1. What we would use. If you allow it, the text of your conversations with the assistant may be used \
to train and improve our future models. Before any conversation is used, we remove email addresses, \
phone numbers, payment card numbers, bank account numbers (IBANs), national ID numbers (such as social \
security, national insurance or tax numbers), IP addresses and secrets such as passwords, API keys, \
access tokens and private keys. We do not remove names, street addresses or other things you write \
about yourself in your own words, nor phone numbers written in another country's local format.

2. How long we keep conversations. If you allow training use, conversations are kept for up to 5 years \
after their last message. If you don't, conversations are deleted 30 days after their last message.

3. Which conversations. Your choice applies to new conversations and to older ones you reopen after \
deciding. Older conversations you don't reopen are never used and stay on the 30-day rule.

4. Changing your mind. You can change your choice at any time in Privacy settings. If you turn training \
use off, none of your conversations is used in any future training run. Conversations that were already \
used in a training run cannot be taken back out of it; Privacy settings lists them.

5. The deadline. Existing users can postpone this decision until the deadline. After it, you will need \
to choose before you can keep chatting. Either answer lets you continue.
"""

SAMPLE_CHATS = [
    ("Plan a weekend in Lisbon", "Can you plan a relaxed weekend in Lisbon for two?"),
    (
        "Fix my Python import error",
        "I get ModuleNotFoundError when running my script from another folder.",
    ),
    ("Birthday message for Sam", "Write a warm birthday message for my colleague Sam."),
    ("Sourdough starter", "My sourdough starter smells like acetone. Is it dead?"),
    ("Explain compound interest", "Explain compound interest like I'm twelve."),
    ("Cover letter draft", "Help me draft a cover letter for a junior data analyst job."),
]


# (email, what the account shows, days since joining (-1: an hour ago), choice made)
PEOPLE = [
    ("existing@example.com", "Existing user: sees the notice and may say Not now", 400, None),
    ("optedin@example.com", "Opted in: new and reopened chats kept 5 years", 300, Choice.OPT_IN),
    (
        "optedout@example.com",
        "Opted out: chats deleted 30 days after last activity",
        250,
        Choice.OPT_OUT,
    ),
    ("newcomer@example.com", "New user: must decide at first login", -1, None),
]


class Command(BaseCommand):
    help = "Create demo users, a current policy and conversations (idempotent); prints the logins."

    @transaction.atomic
    def handle(self, *args, **options):
        now = timezone.now()
        policy = self._policy(now)
        self._translations(policy)
        self._admin(now)
        for email, _, joined_days_ago, choice in PEOPLE:
            self._person(email, joined_days_ago, choice, policy=policy, now=now)
        self._staff(now)
        seed_experiment_demo()
        self._report()

    def _policy(self, now) -> Policy:
        policy, _ = Policy.objects.get_or_create(
            version="2026-09",
            defaults={
                "title": "Consumer terms and privacy policy",
                "summary": "We'd like to use your chats to help train our future models. You decide, and you can change it any time.",
                "body": POLICY_BODY,
                "effective_at": now - timedelta(days=14),
                "decision_deadline": now + timedelta(days=5),
            },
        )
        return policy

    def _translations(self, policy: Policy) -> None:
        """German, French, Spanish and Japanese copy, reviewed (each through the lint) but for
        one French draft left unreviewed to show the fallback; existing rows are kept."""
        for language, text in POLICY.items():
            if not PolicyTranslation.objects.filter(policy=policy, language=language).exists():
                translation_save(
                    PolicyTranslation(policy=policy, language=language, reviewed=True, **text),
                    reviewer=None,
                )
        designs = {design.key: design for design in ModalVariant.objects.all()}
        for key, language, copy, reviewed in design_translations():
            design = designs.get(key)
            if design is None or design.translations.filter(language=language).exists():
                continue
            translation_save(
                ModalVariantTranslation(
                    variant=design, language=language, reviewed=reviewed, **copy
                ),
                reviewer=None,
            )

    def _admin(self, now) -> None:
        User = get_user_model()
        if not User.objects.filter(email=ADMIN_EMAIL).exists():
            User.objects.create_superuser(
                ADMIN_EMAIL,
                DEMO_PASSWORD,
                display_name="Admin",
                date_joined=now - timedelta(days=900),
            )

    def _person(self, email, joined_days_ago, choice, *, policy, now) -> None:
        """One demo user in one consent situation, with chats of different ages."""
        User = get_user_model()
        if User.objects.filter(email=email).exists():
            return
        joined = (
            now - timedelta(days=joined_days_ago)
            if joined_days_ago >= 0
            else now - timedelta(hours=1)
        )
        user = User.objects.create_user(email, DEMO_PASSWORD, date_joined=joined, country="US")
        if joined_days_ago >= 0:
            self._conversations(user, now)
        if choice is None:
            return
        consent_record_create(
            user=user,
            policy=policy,
            choice=choice,
            surface=Surface.EXISTING_NOTICE,
            form_key=secrets.token_hex(16),
            shown_at=now - timedelta(minutes=2),
            variant=default_variant(Surface.EXISTING_NOTICE),
        )
        newest = user.conversations.order_by("-last_activity_at").first()
        if newest is not None:
            message_post(conversation=newest, text="Thanks! One more question about this.")

    def _report(self) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Log in with any of these (password: {DEMO_PASSWORD}):"
            )
        )
        self.stdout.write(f"  {ADMIN_EMAIL:<24} Admin (Django admin at /admin/)")
        for email, description, *_ in PEOPLE:
            self.stdout.write(f"  {email:<24} {description}")
        for email, role in STAFF:
            self.stdout.write(f"  {email:<24} {role} (staff, Django admin)")

    def _staff(self, now):
        """One demo account per staff role (accounts.roles); they decide like anyone else."""
        User = get_user_model()
        for email, role in STAFF:
            if User.objects.filter(email=email).exists():
                continue
            user = User.objects.create_user(
                email,
                DEMO_PASSWORD,
                is_staff=True,
                date_joined=now - timedelta(days=500),
                country="US",
            )
            user.groups.add(Group.objects.get(name=role))

    def _conversations(self, user, now):
        """Chats aged from days to months: some past 30 days, some older than the policy."""
        for (title, question), age_days in zip(SAMPLE_CHATS, [2, 9, 20, 35, 60, 200], strict=True):
            at = now - timedelta(days=age_days)
            conversation = Conversation.objects.create(
                user=user,
                title=title,
                created_at=at,
                last_activity_at=at,
                retain_until=at + timedelta(days=30),
            )
            Message.objects.bulk_create(
                [
                    Message(
                        conversation=conversation, role=Role.USER, content=question, created_at=at
                    ),
                    Message(
                        conversation=conversation,
                        role=Role.ASSISTANT,
                        content="(Demo assistant, offline) Here is a short, helpful answer to get you started.",
                        created_at=at,
                    ),
                ]
            )
        conversation_retention_recompute_for_user(user=user, now=now)
