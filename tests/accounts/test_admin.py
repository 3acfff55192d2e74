import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_staff_can_add_an_email_user_in_admin(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "Added@Example.com",
            "display_name": "Added",
            "country": "FR",
            "password1": "correct-horse-battery",
            "password2": "correct-horse-battery",
        },
    )

    added = User.objects.get(email="added@example.com")
    assert response.status_code == 302
    assert added.country == "FR"
    assert added.check_password("correct-horse-battery")


def test_admin_add_form_refuses_an_email_taken_in_other_case(admin_client, user):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": user.email.upper(),
            "password1": "correct-horse-battery",
            "password2": "correct-horse-battery",
        },
    )

    assert response.status_code == 200
    assert User.objects.filter(email__iexact=user.email).count() == 1
