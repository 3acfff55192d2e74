from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = "Conversations"

    def ready(self) -> None:
        # Connects the signal receivers and registers this app's table with consent's
        # evidence verifier (both imported for that side effect).
        from . import receivers, references  # noqa: F401
