from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "experiments"
    verbose_name = "Experiments"

    def ready(self) -> None:
        from . import designs  # noqa: F401  (registers the design source with consent)
        from .models import Experiment, ExperimentPhase
        from .selectors import running_experiments_memo

        # Cache coherence, not business logic: a launch or stop here is seen at once.
        running_experiments_memo.forget_on_change(Experiment, ExperimentPhase)
