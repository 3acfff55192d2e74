from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import Policy
        from .selectors import policy_timeline_forget

        # Cache coherence, not business logic: a saved policy must be seen by the gate now.
        post_save.connect(policy_timeline_forget, sender=Policy, dispatch_uid="policy-timeline")
        post_delete.connect(
            policy_timeline_forget, sender=Policy, dispatch_uid="policy-timeline-del"
        )
