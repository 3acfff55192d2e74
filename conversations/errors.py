"""Messages the chat shows; tests import these constants."""

from django.utils.translation import gettext_lazy as _

REPLY_FAILED = _(
    "Your message is saved, but the assistant could not answer just now. "
    "Use “Ask again” to get a reply."
)
