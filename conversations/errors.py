"""Messages the chat shows; tests import these constants."""

REPLY_FAILED = (
    "Your message is saved, but the assistant could not answer just now. "
    "Use “Ask again” to get a reply."
)
