from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent"

    def ready(self) -> None:
        from .copy import translations_memo
        from .models import (
            DesignDefault,
            ModalVariant,
            ModalVariantTranslation,
            Policy,
            PolicyTranslation,
        )
        from .selectors import design_defaults_memo, policies_memo, variants_memo

        # Cache coherence, not business logic: a saved policy or design is seen at once.
        policies_memo.forget_on_change(Policy)
        variants_memo.forget_on_change(ModalVariant)
        design_defaults_memo.forget_on_change(DesignDefault)
        translations_memo.forget_on_change(ModalVariantTranslation, PolicyTranslation)
