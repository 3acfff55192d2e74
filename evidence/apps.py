from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence log"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
