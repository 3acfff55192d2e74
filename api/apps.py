from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Consent API"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
