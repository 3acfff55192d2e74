"""Analysts run experiments from Django admin: actions, weight changes, read-only evidence."""

import pytest
from django.urls import reverse

from experiments.models import ExperimentPhase
from experiments.services import experiment_launch

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:experiments_experiment_changelist"


def run_action(admin_client, action: str, *experiments):
    return admin_client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [e.pk for e in experiments]},
        follow=True,
    )


def test_launch_action_starts_a_draft(admin_client, make_experiment):
    experiment = make_experiment()

    response = run_action(admin_client, "launch", experiment)

    experiment.refresh_from_db()
    assert experiment.status == "running"
    assert f"Experiment {experiment.key}: running." in response.content.decode()


def test_launch_action_reports_the_failing_rule_and_design(admin_client, make_experiment):
    experiment = make_experiment(designs=("two_buttons", "accept_toggle_on"), countries=["FR"])

    response = run_action(admin_client, "launch", experiment)

    experiment.refresh_from_db()
    page = response.content.decode()
    assert experiment.status == "draft"
    assert "accept_toggle_on" in page
    assert "Consent switch on by default" in page


def test_pause_and_stop_actions(admin_client, make_experiment):
    experiment = experiment_launch(experiment=make_experiment())

    run_action(admin_client, "pause", experiment)
    experiment.refresh_from_db()
    assert experiment.status == "paused"

    run_action(admin_client, "stop", experiment)
    experiment.refresh_from_db()
    assert experiment.status == "stopped"


def _change_form_data(experiment, weights):
    arms = list(experiment.arms.order_by("position"))
    phases = list(experiment.phases.order_by("number"))
    data = {
        "name": experiment.name,
        "hypothesis": "",
        "coverage": experiment.coverage,
        "sequential_tuning": experiment.sequential_tuning,
        "min_exposures_per_arm": experiment.min_exposures_per_arm,
        "min_runtime_days": experiment.min_runtime_days,
        "p_value_correction": experiment.p_value_correction,
        "planned_baseline_rate": experiment.planned_baseline_rate,
        "planned_daily_exposures": experiment.planned_daily_exposures,
        "target_mde": experiment.target_mde,
        "planned_power": experiment.planned_power,
        "arms-TOTAL_FORMS": len(arms),
        "arms-INITIAL_FORMS": len(arms),
        "arms-MIN_NUM_FORMS": 0,
        "arms-MAX_NUM_FORMS": 1000,
        "phases-TOTAL_FORMS": len(phases),
        "phases-INITIAL_FORMS": len(phases),
        "phases-MIN_NUM_FORMS": 0,
        "phases-MAX_NUM_FORMS": 1000,
    }
    for index, (arm, weight) in enumerate(zip(arms, weights, strict=True)):
        data |= {
            f"arms-{index}-id": arm.pk,
            f"arms-{index}-experiment": experiment.pk,
            f"arms-{index}-weight": weight,
        }
    for index, phase in enumerate(phases):
        data |= {f"phases-{index}-id": phase.pk, f"phases-{index}-experiment": experiment.pk}
    return data


def test_editing_weights_of_a_running_experiment_starts_a_new_phase(admin_client, make_experiment):
    experiment = experiment_launch(experiment=make_experiment())
    url = reverse("admin:experiments_experiment_change", args=[experiment.pk])

    response = admin_client.post(url, _change_form_data(experiment, [1, 3]), follow=True)

    experiment.refresh_from_db()
    assert experiment.phase == 2
    new = ExperimentPhase.objects.get(experiment=experiment, number=2)
    assert sorted(new.weights.values()) == [1.0, 3.0]
    assert "phase 2 started" in response.content.decode()


def test_saving_a_running_experiment_without_weight_changes_keeps_the_phase(
    admin_client, make_experiment
):
    experiment = experiment_launch(experiment=make_experiment())
    url = reverse("admin:experiments_experiment_change", args=[experiment.pk])

    admin_client.post(url, _change_form_data(experiment, [1, 1]), follow=True)

    experiment.refresh_from_db()
    assert experiment.phase == 1


def test_live_experiment_audience_is_read_only_in_admin(admin_client, make_experiment):
    experiment = experiment_launch(experiment=make_experiment())
    url = reverse("admin:experiments_experiment_change", args=[experiment.pk])
    data = _change_form_data(experiment, [1, 1]) | {
        "countries": '["DE"]',
        "surface": "deadline_gate",
    }

    admin_client.post(url, data, follow=True)

    experiment.refresh_from_db()
    assert experiment.countries == ["US"]
    assert experiment.surface == "first_login"


def test_admin_links_to_the_dashboard(admin_client, make_experiment):
    experiment = make_experiment()

    page = admin_client.get(reverse(CHANGELIST)).content.decode()

    assert reverse("experiments:dashboard", args=[experiment.key]) in page


def test_new_experiment_countries_are_normalised(admin_client, calm_variant):
    response = admin_client.post(
        reverse("admin:experiments_experiment_add"),
        {
            "key": "from-admin",
            "name": "From admin",
            "surface": "first_login",
            "audience": "all",
            "countries": '["us", "ca"]',
            "coverage": 1,
            "hash_version": 2,
            "sequential_tuning": 5000,
            "min_exposures_per_arm": 200,
            "min_runtime_days": 7,
            "p_value_correction": "holm",
            "planned_baseline_rate": 0.35,
            "planned_daily_exposures": 100,
            "target_mde": 0.1,
            "planned_power": 0.8,
            "arms-TOTAL_FORMS": 0,
            "arms-INITIAL_FORMS": 0,
            "arms-MIN_NUM_FORMS": 0,
            "arms-MAX_NUM_FORMS": 1000,
            "phases-TOTAL_FORMS": 0,
            "phases-INITIAL_FORMS": 0,
            "phases-MIN_NUM_FORMS": 0,
            "phases-MAX_NUM_FORMS": 1000,
        },
    )

    assert response.status_code == 302
    from experiments.models import Experiment

    assert Experiment.objects.get(key="from-admin").countries == ["CA", "US"]


@pytest.mark.parametrize("model", ["assignment", "exposure", "experimentphase"])
def test_evidence_tables_are_read_only(admin_client, model):
    assert admin_client.get(reverse(f"admin:experiments_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:experiments_{model}_add")).status_code == 403
