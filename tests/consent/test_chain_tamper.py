"""Every evidence field of a ConsentRecord is in its hash: a change to any one is reported.

Each case edits one column the way an attacker with database-owner rights would (lifting
the append-only trigger, tests/consent/test_records.py ``_tamper``) and checks that the
chain verifier names the record. The fields are listed here, not read from
``consent.chain.HASHED_FIELDS``, so dropping a field from the hashed content fails a test.
"""

from datetime import timedelta

import pytest
from django.db import connection

from consent.chain import CHAIN_STARTS, HASH_MISMATCH, PREVIOUS_MISSING, chain_verify_user
from consent.db import _statements
from consent.models import ConsentRecord, ModalVariant, Surface
from consent.services import consent_chains_verify, consent_record_build
from tests.experiments.factories import ArmFactory
from tests.factories import UserFactory

from .factories import PolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(policy):
    """One user's three records, every evidence field filled with a non-default value."""
    user = UserFactory(country="DE")
    toggle_design = ModalVariant.objects.get(key="accept_toggle_on")
    arm = ArmFactory(variant=toggle_design)
    records, previous = [], None
    for n in range(3):
        at = policy.effective_at + timedelta(hours=n + 1)
        record = consent_record_build(
            user_id=user.pk,
            policy=policy,
            choice="opt_in",
            surface=Surface.FIRST_LOGIN,
            shown_at=at - timedelta(seconds=30),
            decided_at=at,
            form_key=f"{n}" * 32,
            previous=previous,
            variant=toggle_design,
            arm=arm,
            toggle_touched=False,
            learn_more_opened=False,
            ip_hash="a" * 64,
            user_agent="Mozilla/5.0 (X11; Linux x86_64)",
            locale="de-DE",
            jurisdiction="DE",
            language="de",
            requested_language="de",
            copy_digest="c" * 64,
        )
        record.save(force_insert=True)
        records.append(record)
        previous = record
    return records


def _edit_below_the_orm(record: ConsentRecord, field_name: str, value) -> None:
    """Lift the append-only trigger, change one column, put the trigger back."""
    field = ConsentRecord._meta.get_field(field_name)
    table = ConsentRecord._meta.db_table
    create, drop = _statements(connection.vendor, table)
    pk = ConsentRecord._meta.pk.get_db_prep_value(record.pk, connection)
    with connection.cursor() as cursor:
        for sql in drop:
            cursor.execute(sql)
        cursor.execute(
            f"UPDATE {table} SET {field.column} = %s WHERE id = %s",
            [field.get_db_prep_save(value, connection), pk],
        )
        for sql in create:
            cursor.execute(sql)


TAMPERED = {
    # field: the forged value, given the record being forged
    "user": lambda r: UserFactory(),
    "policy": lambda r: PolicyFactory(version="1999-forged"),
    "policy_digest": lambda r: "f" * 64,
    "choice": lambda r: "opt_out",
    "surface": lambda r: Surface.SETTINGS,
    "variant": lambda r: ModalVariant.objects.get(key="two_buttons"),
    "arm": lambda r: ArmFactory(),
    "shown": lambda r: {**r.shown, "headline": "Words the person never read"},
    "toggle_default": lambda r: False,
    "toggle_touched": lambda r: True,
    "learn_more_opened": lambda r: True,
    "shown_at": lambda r: r.shown_at - timedelta(minutes=5),
    "decided_at": lambda r: r.decided_at + timedelta(seconds=1),
    "form_key": lambda r: "e" * 32,
    "ip_hash": lambda r: "b" * 64,
    "user_agent": lambda r: "curl/8.0",
    "locale": lambda r: "en-US",
    "jurisdiction": lambda r: "US",
    "language": lambda r: "en",
    "requested_language": lambda r: "fr",
    "copy_digest": lambda r: "d" * 64,
}


@pytest.mark.parametrize("field_name", sorted(TAMPERED))
def test_a_changed_evidence_field_breaks_the_chain_at_that_record(chain, field_name):
    first = chain[0]  # the chain's start: even moved to another person it is checked alone
    forged = TAMPERED[field_name](first)
    _edit_below_the_orm(first, field_name, getattr(forged, "pk", forged))

    breaks = list(consent_chains_verify())

    assert (str(first.pk), HASH_MISMATCH) in {(b.record_id, b.reason) for b in breaks}


def test_an_untouched_chain_verifies(chain):
    assert list(consent_chains_verify()) == []


def test_a_record_missing_from_a_chain_is_reported_at_the_record_after_it(chain):
    first, middle, last = chain
    # Moved to another person (a deleted row reads the same to the verifier, but the
    # foreign key from the next record would refuse the delete in this test's database).
    _edit_below_the_orm(middle, "user", UserFactory().pk)

    breaks = list(consent_chains_verify(user_ids=[first.user_id]))

    assert [(b.record_id, b.reason) for b in breaks] == [(str(last.pk), PREVIOUS_MISSING)]


def test_a_second_start_spliced_into_a_chain_is_reported(chain, policy):
    first = chain[0]
    # A record that hashes correctly on its own but claims no previous record: a second
    # history for the same person. The database refuses it (one start per user); an
    # attacker who drops that index gets it in, so the verifier checks it too.
    spliced = consent_record_build(
        user_id=first.user_id,
        policy=policy,
        choice="opt_out",
        surface=Surface.SETTINGS,
        shown_at=policy.effective_at + timedelta(hours=9),
        decided_at=policy.effective_at + timedelta(hours=9),
        form_key="9" * 32,
        previous=None,
    )

    breaks = chain_verify_user([*chain, spliced])

    assert {(b.record_id, b.reason) for b in breaks} == {
        (str(first.pk), CHAIN_STARTS.format(count=2)),
        (str(spliced.pk), CHAIN_STARTS.format(count=2)),
    }
