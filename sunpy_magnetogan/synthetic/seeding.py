"""
Deterministic random streams for the synthetic Sun.

Everything random about a synthetic Sun comes from its integer seed through
`numpy.random.SeedSequence`: each component (active regions of one 10-day window,
supergranules of one day, the noise of one exposure...) gets a stream of its own, keyed by
the component's name and integer keys. A piece of the Sun is therefore the same however
many other pieces were generated before it, in whatever order. `hash_uniform` gives
reproducible uniform numbers for objects identified by integers (e.g. the network element
between three given supergranules), so that they keep their properties over time.
"""

import zlib

import numpy as np

__all__ = ["component_rng", "hash_uniform", "stable_key"]

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def stable_key(value):
    """
    A non-negative integer key for a string or integer, stable across runs and platforms.

    Parameters
    ----------
    value : str or int
        Strings go through CRC-32; negative integers are zigzag-encoded.

    Returns
    -------
    int
    """
    if isinstance(value, str):
        return zlib.crc32(value.encode("utf-8"))
    value = int(value)
    return 2 * value if value >= 0 else -2 * value - 1


def component_rng(seed, component, *keys):
    """
    The random generator of one component of one synthetic Sun.

    Parameters
    ----------
    seed : int
        The Sun's seed (non-negative).
    component : str
        Name of the component, e.g. ``"regions"``.
    *keys : int or str
        Further keys (window index, time in ms, instrument name...).

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic.seeding import component_rng
    >>> a = component_rng(7, "regions", -3).random()
    >>> b = component_rng(7, "regions", -3).random()
    >>> a == b, a == component_rng(7, "regions", -2).random()
    (True, False)
    """
    spawn_key = (stable_key(component), *(stable_key(k) for k in keys))
    return np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=spawn_key))


def _splitmix(x):
    x = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK
    x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK
    x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK
    return x ^ (x >> np.uint64(31))


def hash_uniform(seed, *ids):
    """
    Uniform numbers in [0, 1) that depend only on a seed and integer identifiers.

    Parameters
    ----------
    seed : int
        Seed (any integer; mixed in first).
    *ids : numpy.ndarray
        Integer arrays (broadcast together), e.g. the identifiers of the supergranules
        around a network element and a salt telling apart several numbers per object.

    Returns
    -------
    numpy.ndarray
        float64 in [0, 1), the broadcast shape of ``ids``.
    """
    with np.errstate(over="ignore"):
        h = _splitmix(np.full((), np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF)))
        for value in np.broadcast_arrays(*(np.asarray(i, dtype=np.int64) for i in ids)):
            h = _splitmix(h ^ value.astype(np.uint64))
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
