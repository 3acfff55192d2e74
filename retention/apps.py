from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = "Retention"

    def ready(self) -> None:
        # Connects the signal receivers (imported for that side effect).
        from . import receivers  # noqa: F401
