from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = "Conversations"

    def ready(self) -> None:
        # Connects the signal receivers (imported for that side effect).
        from . import receivers  # noqa: F401
