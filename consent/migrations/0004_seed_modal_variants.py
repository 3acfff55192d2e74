"""Data migration: the three pop-up designs under test (rows of data, not code)."""

from django.db import migrations

BODY = (
    "We'd like to use your conversations to help train and improve our future models. "
    "You decide, and you can change your mind at any time."
)
LEARN_MORE = (
    "Before anything is used, emails, phone numbers, payment card numbers, IBANs, IP addresses "
    "and secrets such as API keys are removed. Your account details are never part of training data. "
    "If you later turn this off, none of your chats are used in any future training run."
)

VARIANTS = [
    {
        "key": "accept_toggle_on",
        "name": "Accept button, training toggle on by default (announcement design)",
        "layout": "accept_with_toggle",
        "toggle_default": True,
        "headline": "Updates to our consumer terms and privacy policy",
        "accept_label": "Accept",
        "decline_label": "",
        "toggle_label": "You can help improve the model by allowing your chats to be used for training",
        "accept_emphasis": True,
    },
    {
        "key": "accept_toggle_off",
        "name": "Accept button, training toggle off by default",
        "layout": "accept_with_toggle",
        "toggle_default": False,
        "headline": "Updates to our consumer terms and privacy policy",
        "accept_label": "Accept",
        "decline_label": "",
        "toggle_label": "You can help improve the model by allowing your chats to be used for training",
        "accept_emphasis": True,
    },
    {
        "key": "two_buttons",
        "name": "Allow / Don't allow, equal buttons",
        "layout": "two_buttons",
        "toggle_default": False,
        "headline": "May we use your chats to train our models?",
        "accept_label": "Allow",
        "decline_label": "Don't allow",
        "toggle_label": "",
        "accept_emphasis": False,
        "is_default": True,
    },
]


def seed(apps, schema_editor):
    ModalVariant = apps.get_model("consent", "ModalVariant")
    for fields in VARIANTS:
        defaults = {"body": BODY, "learn_more": LEARN_MORE, "surfaces": [], **fields}
        ModalVariant.objects.update_or_create(key=defaults.pop("key"), defaults=defaults)


def unseed(apps, schema_editor):
    ModalVariant = apps.get_model("consent", "ModalVariant")
    ModalVariant.objects.filter(key__in=[v["key"] for v in VARIANTS], records__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("consent", "0003_consentrecord_append_only")]

    operations = [migrations.RunPython(seed, unseed)]
