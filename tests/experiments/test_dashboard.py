"""The product-team pages: permission gating, the dashboard's content, CSV, query bounds."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from experiments.models import Exposure
from experiments.services import experiment_launch, experiment_weights_change
from experiments.views import CSV_COLUMNS
from tests.factories import UserFactory

from .data import decide, expose

pytestmark = pytest.mark.django_db

EXPOSED = timezone.now() - timedelta(days=9)


@pytest.fixture
def launched(make_experiment, policy):
    """A running experiment with a few decisions in each arm."""

    def launch(designs=("two_buttons", "accept_toggle_on"), per_arm=4, **fields):
        experiment = make_experiment(designs=designs, **fields)
        experiment_launch(experiment=experiment, now=timezone.now() - timedelta(days=10))
        for arm in experiment.arms.order_by("position"):
            for index in range(per_arm):
                user = expose(arm, at=EXPOSED)
                choice = "opt_in" if index % 2 else "opt_out"
                decide(user, policy, choice=choice, at=EXPOSED + timedelta(seconds=7), arm=arm)
        return experiment

    return launch


def dashboard_url(experiment) -> str:
    return reverse("experiments:dashboard", args=[experiment.key])


@pytest.mark.parametrize("name", ["list", "dashboard", "results_csv"])
def test_anonymous_visitors_are_sent_to_login(client, launched, name):
    experiment = launched()
    url = reverse(f"experiments:{name}", args=[] if name == "list" else [experiment.key])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", ["list", "dashboard", "results_csv"])
def test_signed_in_users_without_the_permission_are_refused(client, launched, name):
    experiment = launched()
    client.force_login(UserFactory(is_staff=True))
    url = reverse(f"experiments:{name}", args=[] if name == "list" else [experiment.key])

    assert client.get(url).status_code == 403


def test_analysts_reach_the_dashboard_without_deciding_on_consent_first(
    client, launched, analyst, policy
):
    # The analyst joined after the policy and never decided: the gate would send a
    # user to the decision screen, but these pages are for operators.
    experiment = launched()
    client.force_login(analyst)

    response = client.get(dashboard_url(experiment))

    assert response.status_code == 200
    assert reverse("consent:decide") not in response.get("Location", "")


def test_list_shows_experiments_with_their_status(client, launched, make_experiment, analyst):
    running = launched()
    draft = make_experiment(key="still-a-draft")
    client.force_login(analyst)

    page = client.get(reverse("experiments:list")).content.decode()

    assert running.name in page and draft.name in page
    assert "Running" in page and "Draft" in page
    assert dashboard_url(running) in page


def test_dashboard_shows_per_arm_numbers_and_charts(client, launched, analyst):
    experiment = launched()
    client.force_login(analyst)

    page = client.get(dashboard_url(experiment)).content.decode()

    assert 'data-arm="two_buttons"' in page and 'data-arm="accept_toggle_on"' in page
    assert '<td class="num" data-metric="exposed">4</td>' in page
    assert "50.0%" in page  # 2 of 4 exposed users opted in
    assert page.count('role="img"') == 2
    assert '<title id="rate-chart-title">' in page and '<desc id="exposure-chart-desc">' in page
    assert "Chart data" in page  # the table fallback next to each chart
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]


def test_dashboard_shows_the_compliance_findings_with_citations(client, launched, analyst):
    experiment = launched()
    client.force_login(analyst)

    page = client.get(dashboard_url(experiment)).content.decode()

    assert 'data-rule="pre_ticked_consent"' in page
    assert "CJEU C-673/17 Planet49" in page


def test_sample_ratio_mismatch_warning_is_visible(client, make_experiment, analyst):
    experiment = make_experiment()
    experiment_launch(experiment=experiment, now=timezone.now() - timedelta(days=10))
    control, treatment = experiment.arms.order_by("position")
    for arm, count in ((control, 300), (treatment, 200)):
        Exposure.objects.bulk_create(
            [
                Exposure(experiment=experiment, user=u, arm=arm, phase=1, exposed_at=EXPOSED)
                for u in UserFactory.create_batch(count)
            ]
        )
    client.force_login(analyst)

    page = client.get(dashboard_url(experiment)).content.decode()

    assert 'data-warning="srm"' in page
    assert "Sample ratio mismatch" in page


def test_no_sample_ratio_warning_for_a_balanced_split(client, launched, analyst):
    experiment = launched()
    client.force_login(analyst)

    assert 'data-warning="srm"' not in client.get(dashboard_url(experiment)).content.decode()


def test_zero_weight_arm_renders(client, launched, analyst):
    experiment = launched(
        designs=("two_buttons", "accept_toggle_on", "accept_toggle_off"),
        weights=[1, 1, 0],
        per_arm=0,
    )
    control, treatment, _ = experiment.arms.order_by("position")
    for arm in (control, treatment):
        expose(arm, at=EXPOSED)
    client.force_login(analyst)

    response = client.get(dashboard_url(experiment))

    assert response.status_code == 200
    assert 'data-arm="accept_toggle_off"' in response.content.decode()


def test_earlier_phases_are_reachable_and_unknown_ones_are_not_found(client, launched, analyst):
    experiment = launched()
    experiment_weights_change(experiment=experiment, weights={experiment.arms.first().pk: 3.0})
    client.force_login(analyst)

    first = client.get(dashboard_url(experiment), {"phase": 1})
    missing = client.get(dashboard_url(experiment), {"phase": 9})

    assert first.status_code == 200
    assert '<td class="num" data-metric="exposed">4</td>' in first.content.decode()
    assert missing.status_code == 404


def test_csv_has_one_row_per_arm_with_the_dashboard_numbers(client, launched, analyst):
    experiment = launched()
    client.force_login(analyst)

    response = client.get(reverse("experiments:results_csv", args=[experiment.key]))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{experiment.key}-phase1-results.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0].keys()) == CSV_COLUMNS
    assert [row["design"] for row in rows] == ["two_buttons", "accept_toggle_on"]
    control = rows[0]
    assert (control["exposed"], control["decided"], control["opt_ins"]) == ("4", "4", "2")
    assert control["opt_in_rate"] == "0.5"
    assert control["is_control"] == "true"
    assert control["lift"] == ""
    assert rows[1]["p_value"] != ""
    assert control["toggle_touched"] == ""  # no toggle on the two-button design


@pytest.mark.parametrize(
    "designs",
    [("two_buttons", "accept_toggle_on"), ("two_buttons", "accept_toggle_on", "accept_toggle_off")],
)
def test_dashboard_query_count_is_constant_whatever_the_number_of_arms(
    client, launched, analyst, designs, django_assert_num_queries
):
    experiment = launched(designs=designs, per_arm=6)
    client.force_login(analyst)
    client.get(dashboard_url(experiment))  # warm the content-type cache

    # session, user, the user's permissions (2), experiment, phases, arms with their
    # assigned/exposed counts, the decision aggregate, exposures by day, the health
    # counts, the breakdown aggregate, the ship decision
    with django_assert_num_queries(12):
        response = client.get(dashboard_url(experiment))

    assert response.status_code == 200


def test_exposure_chart_axis_uses_round_ticks_and_labels_the_last_day(launched):
    from experiments.analysis import experiment_results
    from experiments.charts import exposures_chart

    experiment = launched(per_arm=7)

    chart = exposures_chart(experiment_results(experiment=experiment))

    assert [tick["label"] for tick in chart["y_ticks"]] == ["0", "2", "4", "6", "8"]
    assert chart["x_ticks"][-1]["label"] == EXPOSED.strftime("%d %b")
    assert "two_buttons: 7" in chart["desc"]
