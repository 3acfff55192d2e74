"""Verdicts, health checks, breakdowns and shipping, through the analysis, the pages and admin."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from consent.models import ModalVariant
from consent.selectors import default_variant
from experiments.analysis import experiment_breakdowns, experiment_results
from experiments.demo import seed_experiment_demo
from experiments.models import Arm, Assignment, Exposure, ShipDecision
from experiments.services import experiment_launch
from experiments.shipping import experiment_ship
from tests.consent.factories import PolicyFactory
from tests.factories import UserFactory

from .data import decide, expose

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
LAUNCHED = NOW - timedelta(days=10)
EXPOSED = NOW - timedelta(days=9)


def fill(arm, policy, *, users: int, opt_ins: int, **record):
    for index in range(users):
        user = expose(arm, at=EXPOSED)
        choice = "opt_in" if index < opt_ins else "opt_out"
        decide(user, policy, choice=choice, at=EXPOSED + timedelta(seconds=20), arm=arm, **record)


@pytest.fixture
def winner(make_experiment, policy, calm_variant):
    """Two lint-clean designs; the treatment doubles opt-ins, guardrails equal, plan met."""
    experiment = make_experiment(
        designs=("two_buttons", calm_variant.key),
        target_mde=1.0,
        planned_baseline_rate=0.3,
        countries=["US"],
    )
    experiment_launch(experiment=experiment, now=LAUNCHED)
    control, treatment = experiment.arms.order_by("position")
    fill(control, policy, users=100, opt_ins=25)
    fill(treatment, policy, users=100, opt_ins=67)
    return experiment


def arm_result(results, key):
    return next(a for a in results.arms if a.variant.key == key)


def test_a_clear_winner_with_calm_guardrails_gets_ship(winner):
    results = experiment_results(experiment=winner, now=NOW)

    assert results.readiness.enough
    assert arm_result(results, "two_buttons_calm").verdict.label == "ship"
    assert arm_result(results, "two_buttons").verdict.kind == "control"


def test_young_experiment_says_not_enough_data_yet(make_experiment, policy, calm_variant):
    experiment = make_experiment(designs=("two_buttons", calm_variant.key), countries=["US"])
    experiment_launch(experiment=experiment, now=NOW - timedelta(days=3))
    control, treatment = experiment.arms.order_by("position")
    fill(control, policy, users=10, opt_ins=3)
    fill(treatment, policy, users=10, opt_ins=8)

    results = experiment_results(experiment=experiment, now=NOW)

    verdict = arm_result(results, calm_variant.key).verdict
    assert verdict.reason.startswith("not enough data yet")
    assert "not_enough_data" in [w.kind for w in results.warnings]


def test_a_failing_design_in_an_eu_audience_is_refused_by_the_lint(make_experiment, policy):
    experiment = make_experiment(designs=("two_buttons", "accept_toggle_on"), countries=["US"])
    experiment_launch(experiment=experiment, now=LAUNCHED)
    experiment.countries = ["DE"]  # as if the audience had included Germany all along
    experiment.save(update_fields=["countries"])

    results = experiment_results(experiment=experiment, now=NOW)

    label = arm_result(results, "accept_toggle_on").verdict.label
    assert label.startswith("do not ship: fails compliance lint (consent switch on by default")


# --- health checks -----------------------------------------------------------------------


def test_health_checks_count_each_problem(make_experiment, policy):
    experiment = make_experiment(designs=("two_buttons", "accept_toggle_on", "accept_toggle_off"))
    experiment_launch(experiment=experiment, now=LAUNCHED)
    control, treatment, _idle = experiment.arms.order_by("position")
    crossed = expose(control, at=EXPOSED)
    decide(crossed, policy, choice="opt_in", at=EXPOSED + timedelta(seconds=9), arm=treatment)
    expose(control, at=LAUNCHED - timedelta(hours=1))  # before the phase started
    Assignment.objects.create(
        experiment=experiment, user=UserFactory(), arm=treatment, phase=1, assigned_at=EXPOSED
    )
    expose(treatment, at=EXPOSED)

    results = experiment_results(experiment=experiment, now=NOW)

    assert results.health.exposed_to_other_arm == 1
    assert results.health.assigned_not_exposed == 1
    assert results.health.exposed_before_start == 1
    kinds = {w.kind: w.message for w in results.warnings}
    assert kinds["health_other_arm"].startswith("1 exposed user")
    assert kinds["health_not_exposed"].startswith("1 user")
    assert kinds["health_early"].startswith("1 exposure")
    assert "accept_toggle_off" in kinds["health_zero_traffic"]


def test_a_healthy_phase_has_no_health_warnings(winner):
    results = experiment_results(experiment=winner, now=NOW)

    assert results.health.exposed_to_other_arm == 0
    assert not [w for w in results.warnings if w.kind.startswith("health")]


# --- breakdowns ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148", "mobile"),
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/126.0 Mobile Safari/537.36", "mobile"),
        ("Mozilla/5.0 (Linux; Android 13; SM-X700) Chrome/126.0 Safari/537.36", "tablet"),
        ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) Mobile/15E148", "tablet"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36", "desktop"),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "desktop"),
        ("", "unknown"),
        ("curl/8.5.0", "unknown"),
    ],
)
def test_device_class_comes_from_the_records_user_agent(
    make_experiment, policy, user_agent, device
):
    experiment = make_experiment()
    experiment_launch(experiment=experiment, now=LAUNCHED)
    control = experiment.arms.get(is_control=True)
    user = expose(control, at=EXPOSED)
    at = EXPOSED + timedelta(seconds=9)
    decide(user, policy, choice="opt_in", at=at, arm=control, user_agent=user_agent)

    breakdowns = {
        b.key: b for b in experiment_breakdowns(experiment_results(experiment=experiment, now=NOW))
    }

    assert [row.value for row in breakdowns["device_class"].rows] == [device]


def test_breakdowns_group_language_and_country(make_experiment, policy):
    experiment = make_experiment()
    experiment_launch(experiment=experiment, now=LAUNCHED)
    control = experiment.arms.get(is_control=True)
    for country, locale, choice in [
        ("DE", "de-DE", "opt_in"),
        ("AT", "de_AT", "opt_out"),
        ("US", "en-US", "opt_in"),
        ("", "", "opt_out"),
    ]:
        user = expose(control, at=EXPOSED, user=UserFactory(country=country))
        at = EXPOSED + timedelta(seconds=9)
        decide(user, policy, choice=choice, at=at, arm=control, locale=locale)

    breakdowns = {
        b.key: b for b in experiment_breakdowns(experiment_results(experiment=experiment, now=NOW))
    }

    language = {row.value: row.cells[0] for row in breakdowns["language"].rows}
    assert (language["de"].decided, language["de"].opt_ins) == (2, 1)
    assert set(language) == {"de", "en", "unknown"}
    country = {row.value: row.cells[0].decided for row in breakdowns["country_group"].rows}
    assert country == {"EU/EEA/UK": 2, "Rest of world": 1, "unknown": 1}


# --- shipping -----------------------------------------------------------------------------


def test_shipping_a_winner_makes_it_the_default_stops_and_records_who_and_why(winner, admin_user):
    arm = winner.arms.get(variant__key="two_buttons_calm")

    decision = experiment_ship(
        experiment=winner, arm=arm, decided_by=admin_user, reason="Clearer copy, same guardrails."
    )

    winner.refresh_from_db()
    assert winner.status == "stopped"
    assert default_variant("first_login").key == "two_buttons_calm"
    assert decision.decided_by == admin_user and decision.reason.startswith("Clearer")
    assert decision.verdict["verdict"] == "ship"
    assert decision.verdict["guardrails"]["reversal_rate"]["p_value"] is None


def test_shipping_an_arm_that_is_not_a_winner_is_refused_and_changes_nothing(
    make_experiment, policy, admin_user
):
    experiment = make_experiment(designs=("two_buttons", "accept_toggle_on"), countries=["US"])
    experiment_launch(experiment=experiment, now=LAUNCHED)
    default_before = default_variant("first_login").key
    arm = experiment.arms.get(variant__key="accept_toggle_on")

    with pytest.raises(ValidationError) as refused:
        experiment_ship(experiment=experiment, arm=arm, decided_by=admin_user, reason="Opt-ins!")

    assert refused.value.code == "not_a_winner"
    experiment.refresh_from_db()
    assert experiment.status == "running"
    assert default_variant("first_login").key == default_before
    assert not ShipDecision.objects.exists()


def test_shipping_needs_a_reason(winner, admin_user):
    arm = winner.arms.get(variant__key="two_buttons_calm")

    with pytest.raises(ValidationError, match="Say why"):
        experiment_ship(experiment=winner, arm=arm, decided_by=admin_user, reason="  ")


def test_a_winner_that_fails_the_lint_cannot_become_the_default(winner, admin_user):
    # A US-only experiment may ship a design the EU rules refuse; a default reaches the EU.
    arm = winner.arms.get(variant__key="two_buttons_calm")
    ModalVariant.objects.filter(pk=arm.variant_id).update(body="Help us improve.", learn_more="")

    with pytest.raises(ValidationError) as refused:
        experiment_ship(experiment=winner, arm=arm, decided_by=admin_user, reason="Wins.")

    assert refused.value.code == "no_withdrawal_statement"
    assert "cannot become the default" in refused.value.messages[0]
    assert default_variant("first_login").key != "two_buttons_calm"


def test_admin_ship_button_ships_through_the_service(client, winner, admin_user):
    arm = winner.arms.get(variant__key="two_buttons_calm")
    client.force_login(admin_user)
    change = client.get(reverse("admin:experiments_experiment_change", args=[winner.pk]))
    url = reverse("admin:experiments_experiment_ship", args=[winner.pk, arm.pk])
    assert url in change.content.decode()
    assert "Users needed" not in change.content.decode()  # the admin panel words it in prose

    response = client.post(url, {"reason": "Doubles opt-ins, guardrails unchanged."})

    assert response.status_code == 302
    assert ShipDecision.objects.get().decided_by == admin_user


def test_admin_ship_view_is_refused_without_change_permission(client, winner, analyst):
    arm = winner.arms.get(variant__key="two_buttons_calm")
    analyst.user_permissions.add(Permission.objects.get(codename="view_experiment"))
    client.force_login(analyst)

    url = reverse("admin:experiments_experiment_ship", args=[winner.pk, arm.pk])
    response = client.post(url, {"reason": "I like it."})

    assert response.status_code == 403
    assert not ShipDecision.objects.exists()


# --- the dashboard -------------------------------------------------------------------------


@pytest.fixture
def demo(db):
    PolicyFactory(effective_at=timezone.now() - timedelta(days=30))
    return seed_experiment_demo()


def test_demo_refuses_the_default_on_design_on_its_reversal_rate(client, demo, analyst):
    client.force_login(analyst)

    page = client.get(reverse("experiments:dashboard", args=[demo.key])).content.decode()

    results = experiment_results(experiment=demo)
    toggle_on = arm_result(results, "accept_toggle_on")
    assert toggle_on.verdict.label.startswith("do not ship: 7-day reversal rate")
    assert toggle_on.opt_in_rate > 2 * results.control.opt_in_rate  # it "wins" opt-ins
    assert 'data-verdict="do_not_ship"' in page
    assert "7-day reversal rate" in page
    assert 'data-warning="breakdowns"' in page
    assert 'data-readiness="enough"' in page


def test_each_arm_links_a_read_only_rendering_of_its_design(client, demo, analyst):
    client.force_login(analyst)
    arm = Arm.objects.get(experiment=demo, variant__key="accept_toggle_on")
    url = reverse("experiments:design_preview", args=[demo.key, arm.pk])

    page = client.get(reverse("experiments:dashboard", args=[demo.key])).content.decode()
    preview = client.get(url)

    assert url in page
    assert preview.status_code == 200
    assert 'data-toggle-default="on"' in preview.content.decode()
    assert "<form" not in preview.content.decode().split("<main")[-1].split("</main>")[0]


def test_design_rendering_of_another_experiments_arm_is_not_found(
    client, demo, analyst, make_experiment
):
    client.force_login(analyst)
    other = Arm.objects.filter(experiment=make_experiment()).first()

    response = client.get(reverse("experiments:design_preview", args=[demo.key, other.pk]))

    assert response.status_code == 404


def test_exposure_rows_stay_within_one_phase(demo):
    # The demo's health is clean: every check at zero.
    health = experiment_results(experiment=demo).health
    assert (health.exposed_to_other_arm, health.assigned_not_exposed) == (0, 0)
    assert Exposure.objects.filter(experiment=demo, exposed_at__lt=demo.starts_at).count() == 0
