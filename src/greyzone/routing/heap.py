"""A priority queue for the compiled searches (pure; numba): a 4-ary min-heap of (key, value) pairs in
two arrays, with lazy deletion (a search pushes a node again when its key falls and skips the stale
entry when it pops it) — no position table to keep, and a node's four children share a cache line.
About 1.5× faster than a binary heap with decrease-key on the searches here (same answers).

    keys, values = heap_new(1024)
    size = heap_push(keys, values, size, key, value)   # after heap_room(…) when it may be full
    key, value = keys[0], values[0]; size = heap_pop(keys, values, size)
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def heap_new(capacity):  # type: ignore[no-untyped-def]
    """Empty key and value arrays for ``capacity`` entries."""
    return np.empty(max(capacity, 16), dtype=np.float64), np.empty(max(capacity, 16), dtype=np.int64)


@numba.njit(cache=True)
def heap_room(keys, values, size, more):  # type: ignore[no-untyped-def]
    """The arrays, doubled as needed so that ``more`` entries fit after ``size``."""
    if size + more <= len(keys):
        return keys, values
    capacity = len(keys)
    while capacity < size + more:
        capacity *= 2
    grown_k, grown_v = np.empty(capacity, dtype=np.float64), np.empty(capacity, dtype=np.int64)
    grown_k[:size], grown_v[:size] = keys[:size], values[:size]
    return grown_k, grown_v


@numba.njit(cache=True, inline="always")
def heap_push(keys, values, size, key, value):  # type: ignore[no-untyped-def]
    """Add (key, value) (there must be room); the new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 2
        if keys[parent] <= key:
            break
        keys[i], values[i] = keys[parent], values[parent]
        i = parent
    keys[i], values[i] = key, value
    return size + 1


@numba.njit(cache=True, inline="always")
def heap_pop(keys, values, size):  # type: ignore[no-untyped-def]
    """Remove the least entry (read it at index 0 first); the new size."""
    size -= 1
    key, value = keys[size], values[size]
    i = 0
    while True:
        child = 4 * i + 1
        if child >= size:
            break
        least, least_key = child, keys[child]
        for j in range(child + 1, min(child + 4, size)):
            if keys[j] < least_key:
                least, least_key = j, keys[j]
        if least_key >= key:
            break
        keys[i], values[i] = least_key, values[least]
        i = least
    keys[i], values[i] = key, value
    return size
