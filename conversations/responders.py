"""Where the assistant's replies come from; ``settings.CHAT_RESPONDER`` names the class.

A responder takes the conversation so far as ``(role, content)`` pairs, oldest
first, and returns the reply text.
"""

from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class Responder(Protocol):
    # How the UI names the assistant's messages.
    display_name: str

    def reply(self, history: list[tuple[str, str]]) -> str: ...


class DemoResponder:
    """An offline, deterministic stand-in for a model: no network, same input, same reply."""

    display_name = "Demo assistant (offline)"
    excerpt_length = 80

    def reply(self, history: list[tuple[str, str]]) -> str:
        questions = [content for role, content in history if role == "user"]
        if not questions:
            return "Hello! Ask me anything to start."
        last = " ".join(questions[-1].split())
        excerpt = last if len(last) <= self.excerpt_length else last[: self.excerpt_length] + "…"
        words = len(last.split())
        turn = len(questions)
        return (
            f"You asked: “{excerpt}” ({words} word{'s' if words != 1 else ''}).\n\n"
            "I am a demo assistant running offline, so I cannot really answer yet. "
            "In the real product a language model replies here. "
            f"This is message {turn} of our conversation."
        )


def assistant_display_name() -> str:
    """The label the UI shows on assistant messages for the configured responder."""
    responder = import_string(settings.CHAT_RESPONDER)
    return getattr(responder, "display_name", "Assistant")
