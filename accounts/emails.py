"""Account emails: one Django template per part (subject, plain text, HTML)."""

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def account_email(*, to: str, template: str, context: dict) -> EmailMultiAlternatives:
    """``templates/accounts/emails/<template>_subject.txt``, ``.txt`` and ``.html``."""
    base = f"accounts/emails/{template}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"{base}.txt", context), to=[to]
    )
    message.attach_alternative(render_to_string(f"{base}.html", context), "text/html")
    return message
