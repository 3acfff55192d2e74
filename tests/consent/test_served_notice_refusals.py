"""A serving is kept only under the id its form carries, so the answer can link back to it."""

import dataclasses
import uuid

import pytest

from consent.models import ServedNotice, ShownCopy, Surface
from consent.services import decision_form_issue, served_notice_record

pytestmark = pytest.mark.django_db

RENDERED = '<section aria-labelledby="training-heading"><h2>Training</h2></section>'


def test_a_form_issued_without_a_serving_id_is_refused_and_nothing_is_kept(new_user, policy):
    form = decision_form_issue(user=new_user, policy=policy, surface=Surface.SETTINGS, variant=None)

    with pytest.raises(ValueError, match="without a serving id"):
        served_notice_record(form=form, policy=policy, variant=None, arm=None, rendered=RENDERED)

    # A serving under an id of its own would be one no decision could ever point to.
    assert not ServedNotice.objects.exists()
    assert not ShownCopy.objects.exists()


def test_the_same_form_with_a_serving_id_is_kept_under_that_id(new_user, policy):
    form = decision_form_issue(user=new_user, policy=policy, surface=Surface.SETTINGS, variant=None)
    served_id = uuid.uuid4()

    served = served_notice_record(
        form=dataclasses.replace(form, served_id=served_id),
        policy=policy,
        variant=None,
        arm=None,
        rendered=RENDERED,
    )

    assert served.pk == served_id
    assert ServedNotice.objects.get().user_id == new_user.pk
