"""Per-process memos of configuration rows (config.memo): fresh after a save here,
at most ``seconds`` behind a change made by another process."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config import memo as memo_module
from config.memo import ProcessMemo
from consent.models import DesignDefault, JurisdictionGroup, ModalVariant, Policy
from consent.selectors import current_policy, default_variant
from tests.consent.factories import PolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def monotonic(monkeypatch):
    """Drives time.monotonic as config.memo sees it."""

    class Clock:
        now = 1000.0

        def shift(self, seconds: float) -> None:
            self.now += seconds

    clock = Clock()
    monkeypatch.setattr(memo_module.time, "monotonic", lambda: clock.now)
    return clock


@pytest.fixture
def use_default_design():
    from consent.services import variant_make_default

    return lambda key: variant_make_default(
        ModalVariant.objects.get(key=key), jurisdiction_groups=[JurisdictionGroup.REST_OF_WORLD]
    )


def test_a_memo_loads_once_then_serves_from_memory(monotonic):
    loads = []
    memo = ProcessMemo("test-counting", lambda: loads.append(1) or len(loads), seconds=60)

    assert [memo.get(), memo.get(), memo.get()] == [1, 1, 1]
    monotonic.shift(61)
    assert memo.get() == 2


def test_a_policy_saved_in_this_process_is_current_at_once():
    PolicyFactory(version="2026-01", effective_at=timezone.now() - timedelta(days=30))
    assert current_policy().version == "2026-01"

    PolicyFactory(version="2026-02", effective_at=timezone.now() - timedelta(minutes=1))

    assert current_policy().version == "2026-02"


def test_a_change_from_another_process_is_seen_once_the_memo_expires(monotonic):
    policy = PolicyFactory(version="2026-01", effective_at=timezone.now() - timedelta(days=30))
    assert current_policy().title == policy.title
    # QuerySet.update sends no signal: as far as this process knows, someone else wrote it.
    Policy.objects.filter(pk=policy.pk).update(title="Edited elsewhere")

    assert current_policy().title == policy.title
    monotonic.shift(61)
    assert current_policy().title == "Edited elsewhere"


def test_a_deleted_design_stops_being_the_default_at_once(use_default_design):
    chosen = use_default_design("accept_toggle_off")
    assert default_variant("first_login", group=JurisdictionGroup.REST_OF_WORLD) == chosen

    DesignDefault.objects.filter(variant=chosen).delete()
    chosen.delete()

    assert (
        default_variant("first_login", group=JurisdictionGroup.REST_OF_WORLD).key
        != "accept_toggle_off"
    )
