"""Launch, pause, stop: the rules a launch enforces, including the EU/EEA/UK compliance block."""

import pytest
from django.core.exceptions import ValidationError

from experiments import errors
from experiments.compliance import PRE_TICKED
from experiments.models import ExperimentPhase
from experiments.services import (
    experiment_launch,
    experiment_pause,
    experiment_stop,
    experiment_weights_change,
)

pytestmark = pytest.mark.django_db


def test_launch_freezes_the_weights_into_phase_one(make_experiment):
    experiment = make_experiment(designs=("two_buttons", "accept_toggle_off"), weights=[1, 3])

    experiment_launch(experiment=experiment)

    experiment.refresh_from_db()
    phase = ExperimentPhase.objects.get(experiment=experiment)
    assert experiment.status == "running"
    assert experiment.starts_at is not None
    assert experiment.hash_seed == experiment.key
    assert sorted(phase.weights.values()) == [1.0, 3.0]


def test_pause_then_launch_resumes_the_same_phase(make_experiment):
    experiment = experiment_launch(experiment=make_experiment())

    experiment_pause(experiment=experiment)
    resumed = experiment_launch(experiment=experiment)

    assert resumed.status == "running"
    assert ExperimentPhase.objects.filter(experiment=experiment).count() == 1


def test_stop_ends_the_phase_and_cannot_be_undone(make_experiment):
    experiment = experiment_launch(experiment=make_experiment())

    experiment_stop(experiment=experiment)

    experiment.refresh_from_db()
    assert experiment.status == "stopped"
    assert ExperimentPhase.objects.get(experiment=experiment).ended_at == experiment.ends_at
    with pytest.raises(ValidationError, match="this one is stopped"):
        experiment_launch(experiment=experiment)


def test_a_draft_cannot_be_paused(make_experiment):
    with pytest.raises(ValidationError) as caught:
        experiment_pause(experiment=make_experiment())

    assert caught.value.messages == [errors.NOT_PAUSABLE.format(status="draft")]


def test_weights_of_a_draft_are_not_a_phase_change(make_experiment):
    experiment = make_experiment()

    with pytest.raises(ValidationError, match="edited directly"):
        experiment_weights_change(experiment=experiment, weights={})


def test_launch_needs_two_arms(make_experiment):
    with pytest.raises(ValidationError) as caught:
        experiment_launch(experiment=make_experiment(designs=("two_buttons",)))

    assert caught.value.messages == [errors.TOO_FEW_ARMS]


def test_launch_needs_a_control_with_weight(make_experiment):
    experiment = make_experiment(weights=[0, 1])

    with pytest.raises(ValidationError) as caught:
        experiment_launch(experiment=experiment)

    assert caught.value.messages == [errors.CONTROL_WEIGHT]


def test_a_zero_weight_arm_may_launch(make_experiment):
    experiment = make_experiment(
        designs=("two_buttons", "accept_toggle_on", "accept_toggle_off"), weights=[1, 1, 0]
    )

    assert experiment_launch(experiment=experiment).status == "running"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"audience": "new_users"}, {"audience": "new_users"}),
        ({"audience": "all"}, {"audience": "new_users"}),
        ({"countries": []}, {"countries": ["US"]}),
        ({"countries": ["US", "CA"]}, {"countries": ["CA"]}),
    ],
)
def test_only_one_running_experiment_per_surface_and_audience(
    make_experiment, calm_variant, first, second
):
    designs = ("two_buttons", calm_variant.key)  # compliant, so countries may be left open
    experiment_launch(experiment=make_experiment(key="first", designs=designs, **first))
    overlapping = make_experiment(key="second", designs=designs, **second)

    with pytest.raises(ValidationError) as caught:
        experiment_launch(experiment=overlapping)

    assert caught.value.messages == [
        errors.OVERLAPPING_EXPERIMENT.format(other="first", surface="First-login screen")
    ]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"audience": "new_users"}, {"audience": "existing_users"}),
        ({"countries": ["US"]}, {"countries": ["CA"]}),
        ({"surface": "first_login"}, {"surface": "deadline_gate"}),
    ],
)
def test_disjoint_audiences_may_run_side_by_side(make_experiment, first, second):
    experiment_launch(experiment=make_experiment(key="first", **first))

    assert experiment_launch(experiment=make_experiment(key="second", **second)).status == "running"


def test_a_paused_experiment_does_not_block_another_launch(make_experiment):
    first = experiment_launch(experiment=make_experiment(key="first"))
    experiment_pause(experiment=first)

    assert experiment_launch(experiment=make_experiment(key="second")).status == "running"


def test_failing_design_cannot_launch_to_an_eu_audience(make_experiment):
    experiment = make_experiment(
        designs=("two_buttons", "accept_toggle_on"), countries=["US", "DE"]
    )

    with pytest.raises(ValidationError) as caught:
        experiment_launch(experiment=experiment)

    assert caught.value.code == PRE_TICKED.code
    assert caught.value.messages == [
        errors.NONCOMPLIANT_DESIGN.format(
            variant="accept_toggle_on", rule=PRE_TICKED.title, citation=PRE_TICKED.citation
        )
    ]


def test_no_country_restriction_counts_as_an_eu_audience(make_experiment):
    experiment = make_experiment(designs=("two_buttons", "accept_toggle_off"), countries=[])

    with pytest.raises(ValidationError, match="accept_toggle_off"):
        experiment_launch(experiment=experiment)


def test_uk_counts_as_a_gdpr_audience(make_experiment):
    experiment = make_experiment(designs=("two_buttons", "accept_toggle_on"), countries=["GB"])

    with pytest.raises(ValidationError, match="includes the EU/EEA/UK"):
        experiment_launch(experiment=experiment)


def test_default_on_design_stays_testable_outside_the_eu(make_experiment):
    experiment = make_experiment(designs=("two_buttons", "accept_toggle_on"), countries=["US"])

    assert experiment_launch(experiment=experiment).status == "running"


def test_compliant_designs_launch_everywhere(make_experiment):
    experiment = make_experiment(designs=("two_buttons", "accept_toggle_on"), countries=[])
    toggle = experiment.arms.get(variant__key="accept_toggle_on").variant
    # Fix the design: switch off by default, no emphasis, the question in the headline.
    toggle.toggle_default = False
    toggle.accept_emphasis = False
    toggle.headline = "May we use your chats to train our models?"
    toggle.save()

    assert experiment_launch(experiment=experiment).status == "running"


def test_lowercase_country_codes_are_refused_at_launch(make_experiment):
    with pytest.raises(ValidationError) as caught:
        experiment_launch(experiment=make_experiment(countries=["us"]))

    assert caught.value.messages == [errors.BAD_COUNTRY.format(code="us")]


def test_inactive_design_cannot_launch(make_experiment):
    experiment = make_experiment()
    variant = experiment.arms.get(is_control=False).variant
    variant.is_active = False
    variant.save(update_fields=["is_active"])

    with pytest.raises(ValidationError, match="inactive or not offered"):
        experiment_launch(experiment=experiment)
