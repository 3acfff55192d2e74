from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        # Connects the signal receivers (imported for that side effect).
        from . import receivers  # noqa: F401
