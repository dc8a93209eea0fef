"""The cache of parsed immutable store files: bounded, least recently used goes first, forgets on demand."""

from __future__ import annotations

from alpr_lib.store.path_cache import PathCache


def test_the_least_recently_used_path_goes_when_the_bound_is_passed():
    cache: PathCache[int] = PathCache(kept=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recently used
    cache.put("c", 3)
    assert "b" not in cache and list(cache) == ["a", "c"]
    assert cache.get("b") is None and len(cache) == 2


def test_forget_drops_named_and_matching_paths_only():
    cache: PathCache[str] = PathCache(kept=10)
    for p in ("/s/index/x", "/s/index/y", "/s/by_plate/z", "/t/index/x"):
        cache.put(p, p.upper())
    cache.forget(["/s/index/x", "/never/cached"])
    cache.forget_where(lambda p: p.startswith("/s/") and p.endswith("z"))
    assert list(cache) == ["/s/index/y", "/t/index/x"]
    assert cache.get("/t/index/x") == "/T/INDEX/X"
