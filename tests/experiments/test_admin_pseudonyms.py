"""The product analyst sees people only as pseudonyms (DESIGN §4 rule 6).

The hostile review found the analyst reading users' emails on the Assignment and
Exposure admin (list, change page, search by email). Now: a keyed, per-user stable
pseudonym; no email, no user id, no link to the user admin; search by pseudonym only.
Staff who may view user accounts (``accounts.view_user``: superusers) still see emails.
"""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import PRODUCT_ANALYST
from experiments.admin import experiment_pseudonym
from experiments.models import Assignment, Exposure
from tests.factories import UserFactory
from training.services import user_pseudonym as training_pseudonym

from .data import expose

pytestmark = pytest.mark.django_db

EMAIL = "carol.identifiable@example.com"
NAME = "Carol Identifiable"
ROWS = [Assignment, Exposure]


@pytest.fixture
def exposed(running_experiment):
    """Carol, assigned to and shown the first arm of a running experiment."""
    experiment = running_experiment()
    carol = UserFactory(email=EMAIL, display_name=NAME, country="US")
    expose(experiment.arms.order_by("position").first(), at=timezone.now(), user=carol)
    expose(experiment.arms.order_by("position").last(), at=timezone.now())
    return carol


def client_as(role: str | None) -> Client:
    person = UserFactory(
        email=f"{(role or 'root').replace(' ', '-').lower()}@staff.example.com",
        is_staff=True,
        is_superuser=role is None,
    )
    if role:
        person.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(person, backend="consent.backends.ConsentStandingBackend")
    return client


def changelist(model) -> str:
    return reverse(f"admin:experiments_{model._meta.model_name}_changelist")


def change(row) -> str:
    return reverse(f"admin:experiments_{row._meta.model_name}_change", args=[row.pk])


def assert_identifies_nobody(page: str, person) -> None:
    assert EMAIL not in page
    assert NAME not in page
    assert f"user {person.pk} " not in page
    assert reverse("admin:accounts_user_change", args=[person.pk]) not in page


@pytest.mark.parametrize("model", ROWS)
def test_the_analyst_sees_a_pseudonym_not_the_email_in_the_list(exposed, model):
    page = client_as(PRODUCT_ANALYST).get(changelist(model)).content.decode()

    assert experiment_pseudonym(exposed.pk) in page
    assert_identifies_nobody(page, exposed)


@pytest.mark.parametrize("model", ROWS)
def test_the_analyst_sees_a_pseudonym_not_the_email_on_the_change_page(exposed, model):
    row = model.objects.get(user=exposed)

    response = client_as(PRODUCT_ANALYST).get(change(row))

    assert response.status_code == 200
    page = response.content.decode()
    assert experiment_pseudonym(exposed.pk) in page
    assert_identifies_nobody(page, exposed)


@pytest.mark.parametrize("model", ROWS)
def test_the_analyst_cannot_find_a_person_by_email(exposed, model):
    client = client_as(PRODUCT_ANALYST)

    for term in (EMAIL, "carol", "example.com"):
        response = client.get(changelist(model), {"q": term})
        assert response.context["cl"].result_count == 0, term


@pytest.mark.parametrize("model", ROWS)
def test_the_analyst_finds_a_persons_rows_by_pseudonym(exposed, model):
    response = client_as(PRODUCT_ANALYST).get(
        changelist(model), {"q": experiment_pseudonym(exposed.pk)}
    )

    assert [row.user_id for row in response.context["cl"].result_list] == [exposed.pk]


@pytest.mark.parametrize("model", ROWS)
@pytest.mark.parametrize(
    "lookup", ["user", "user_id", "user__id", "user__email", "user__email__startswith"]
)
def test_the_analyst_cannot_filter_by_user_in_the_url(exposed, model, lookup):
    value = "carol" if "email" in lookup else str(exposed.pk)

    response = client_as(PRODUCT_ANALYST).get(changelist(model), {lookup: value})

    assert response.status_code == 400


@pytest.mark.parametrize("model", ROWS)
def test_staff_who_may_view_users_see_and_search_the_email(exposed, model):
    client = client_as(None)

    listed = client.get(changelist(model)).content.decode()
    found = client.get(changelist(model), {"q": EMAIL})

    assert EMAIL in listed and experiment_pseudonym(exposed.pk) in listed
    assert [row.user_id for row in found.context["cl"].result_list] == [exposed.pk]


def test_the_pseudonym_is_stable_keyed_and_unlinkable_to_training_files(exposed, settings):
    first = experiment_pseudonym(exposed.pk)

    assert experiment_pseudonym(exposed.pk) == first
    assert experiment_pseudonym(exposed.pk + 1) != first
    assert first not in training_pseudonym(exposed.pk)
    settings.SECRET_KEY = "another-secret-key-" * 3
    assert experiment_pseudonym(exposed.pk) != first


def test_the_dashboard_and_its_csv_identify_nobody(exposed):
    experiment = Assignment.objects.get(user=exposed).experiment
    client = client_as(PRODUCT_ANALYST)

    for name in ("dashboard", "results_csv"):
        response = client.get(reverse(f"experiments:{name}", args=[experiment.key]))
        assert response.status_code == 200
        assert_identifies_nobody(response.content.decode(), exposed)
