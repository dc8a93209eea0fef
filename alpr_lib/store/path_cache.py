"""A bounded, thread-safe, least-recently-used cache of what was parsed from immutable store files.

Store files are written once under a new name and never changed, so a cached value is never stale; it only
becomes dead weight when a fold or compaction replaces its file. Both users (dictionary levels, bucket
footers) therefore need the same three things: get, put with a bound, and forget the paths no longer live.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

V = TypeVar("V")


class PathCache(Generic[V]):
    """Values by file path, most recently used last; the oldest go once more than ``kept`` are held."""

    def __init__(self, kept: int) -> None:
        self.kept = kept
        self._items: OrderedDict[str, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str) -> V | None:
        with self._lock:
            value = self._items.get(path)
            if value is not None:
                self._items.move_to_end(path)
            return value

    def put(self, path: str, value: V) -> None:
        with self._lock:
            self._items[path] = value
            self._items.move_to_end(path)
            while len(self._items) > self.kept:
                self._items.popitem(last=False)

    def forget(self, paths: Iterable[str]) -> None:
        with self._lock:
            for path in paths:
                self._items.pop(path, None)

    def forget_where(self, stale: Callable[[str], bool]) -> None:
        """Drop every path for which ``stale(path)`` is true (one pass under the lock)."""
        with self._lock:
            for path in [p for p in self._items if stale(p)]:
                del self._items[path]

    def __iter__(self) -> Iterator[str]:
        """The cached paths (a snapshot: safe while other threads use the cache)."""
        with self._lock:
            return iter(list(self._items))

    def __contains__(self, path: object) -> bool:
        with self._lock:
            return path in self._items

    def __len__(self) -> int:
        return len(self._items)
