"""config.cache.ImmutableLocMemCache: LocMemCache's behaviour, without the pickled copies."""

import pytest
import time_machine
from django.core.cache import caches
from django.utils import timezone

from config.cache import ImmutableLocMemCache


@pytest.fixture
def cache():
    cache = ImmutableLocMemCache(
        "test-immutable", {"TIMEOUT": 60, "OPTIONS": {"MAX_ENTRIES": 3, "CULL_FREQUENCY": 3}}
    )
    cache.clear()
    return cache


def test_a_value_comes_back_as_the_object_stored_not_a_copy(cache):
    value = ("skeleton", "html")
    cache.set("k", value)

    assert cache.get("k") is value
    assert cache.get("missing", "default") == "default"


def test_add_stores_only_what_is_not_there(cache):
    assert cache.add("k", "first") is True
    assert cache.add("k", "second") is False
    assert cache.get("k") == "first"


def test_values_expire_and_can_be_added_again(cache):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        cache.set("k", "old", timeout=10)
    with time_machine.travel(now.timestamp() + 11, tick=False):
        assert cache.get("k") is None
        cache.set("k2", "stale", timeout=10)
    with time_machine.travel(now.timestamp() + 30, tick=False):
        assert cache.add("k2", "fresh") is True
        assert cache.get("k2") == "fresh"


def test_the_least_recently_used_go_past_the_limit(cache):
    for key in "abc":
        cache.set(key, key)
    cache.get("a")  # b is now the least recently used
    cache.set("d", "d")  # full: a third goes

    assert cache.get("b") is None
    assert [cache.get(key) for key in "acd"] == ["a", "c", "d"]


def test_counting_works_as_in_django_s_own_local_memory_cache(cache):
    cache.set("n", 1)

    assert cache.incr("n") == 2
    assert cache.decr("n", 5) == -3
    assert cache.get("n") == -3
    with pytest.raises(ValueError, match="not found"):
        cache.incr("missing")


def test_the_dialog_cache_is_this_kind():
    assert isinstance(caches["fragments"], ImmutableLocMemCache)
