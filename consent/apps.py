from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent"

    def ready(self) -> None:
        from .models import DesignDefault, ModalVariant, Policy
        from .selectors import design_defaults_memo, policies_memo, variants_memo

        # Cache coherence, not business logic: a saved policy or design is seen at once.
        policies_memo.forget_on_change(Policy)
        variants_memo.forget_on_change(ModalVariant)
        design_defaults_memo.forget_on_change(DesignDefault)
