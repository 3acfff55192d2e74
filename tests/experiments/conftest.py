import pytest
from django.contrib.auth.models import Permission

from consent.models import ModalVariant
from experiments.services import experiment_launch
from tests.consent.factories import PolicyFactory
from tests.factories import UserFactory

from .factories import ArmFactory, ExperimentFactory

DESIGNS = ["two_buttons", "accept_toggle_on", "accept_toggle_off"]


@pytest.fixture
def policy(db):
    """A policy in effect since yesterday (the consent tests' fixture, for this package)."""
    return PolicyFactory()


@pytest.fixture
def make_experiment(db):
    """A draft experiment over the given designs; the first is the control."""

    def make(designs=("two_buttons", "accept_toggle_on"), weights=None, **fields):
        experiment = ExperimentFactory(**fields)
        weights = weights or [1.0] * len(designs)
        for position, (key, weight) in enumerate(zip(designs, weights, strict=True)):
            ArmFactory(
                experiment=experiment,
                variant=ModalVariant.objects.get(key=key),
                weight=weight,
                is_control=position == 0,
                position=position,
            )
        return experiment

    return make


@pytest.fixture
def running_experiment(make_experiment, policy):
    """A running first-login experiment for new US users over all three designs."""

    def launch(designs=tuple(DESIGNS), **fields):
        fields.setdefault("audience", "new_users")
        experiment = make_experiment(designs=designs, **fields)
        return experiment_launch(experiment=experiment)

    return launch


@pytest.fixture
def us_newcomer(db, policy):
    """Joined after the policy took effect, in the US: inside the usual test audience."""

    def make(**fields):
        fields.setdefault("country", "US")
        return UserFactory(**fields)

    return make


@pytest.fixture
def analyst(db):
    """A signed-in-able staff member who may read results (and nothing else)."""
    user = UserFactory(email="analyst@example.com", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_results"))
    return user


@pytest.fixture
def calm_variant(db):
    """A second design that passes every compliance rule (a copy of the two-button one)."""
    base = ModalVariant.objects.get(key="two_buttons")
    return ModalVariant.objects.create(
        key="two_buttons_calm",
        name="Allow / Don't allow, calmer copy",
        layout=base.layout,
        headline="Can your chats help train our models?",
        body=base.body,
        accept_label="Allow",
        decline_label="Don't allow",
        learn_more=base.learn_more,
    )
