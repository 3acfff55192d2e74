"""A process-local cache that keeps values as they are.

Django's LocMemCache pickles every value on the way in and out, so that a cached object
cannot be changed through a reference someone kept. For values that cannot change anyway
(frozen dataclasses of strings: the consent dialog's skeleton, consent.presenters) that
costs a copy per read for nothing. Everything else (size limit, least recently used
eviction, timeouts, ``clear``) is LocMemCache's.
"""

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache


class ImmutableLocMemCache(LocMemCache):
    """LocMemCache without pickling; for immutable values only. Keys are the caller's own
    (``make_key``, not validated for memcached: they never leave the process)."""

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._set(key, value, timeout)
                return True
            return False

    def get(self, key, default=None, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                return default
            value = self._cache[key]
            self._cache.move_to_end(key, last=False)
        return value

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_key(key, version=version)
        with self._lock:
            self._set(key, value, timeout)

    def incr(self, key, delta=1, version=None):
        """As LocMemCache's (``decr`` too): numbers are immutable, the sum replaces them."""
        key = self.make_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                raise ValueError(f"Key '{key}' not found")
            value = self._cache[key] + delta
            self._cache[key] = value
            self._cache.move_to_end(key, last=False)
        return value
