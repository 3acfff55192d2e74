from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        # Connects the signal receivers and registers this app's table with consent's
        # evidence verifier (both imported for that side effect).
        from . import receivers, references  # noqa: F401
