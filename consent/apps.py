from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent"

    def ready(self) -> None:
        from .models import ModalVariant, Policy
        from .selectors import policies_memo, variants_memo

        # Cache coherence, not business logic: a saved policy or design is seen at once.
        policies_memo.forget_on_change(Policy)
        variants_memo.forget_on_change(ModalVariant)
