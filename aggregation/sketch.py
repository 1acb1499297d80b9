"""HyperLogLog over sparse (register → rank) maps, so a store only ever upserts max() (§4)."""

from __future__ import annotations

import math
from collections.abc import Mapping

# The layout is a store's on-disk format: changing PRECISION or the bit split below
# invalidates every stored register.
PRECISION = 14
"""Index bits: m = 2**14 = 16,384 registers, standard error 1.04 / sqrt(m) ≈ 0.81%."""

REGISTERS = 1 << PRECISION
"""m, the number of registers."""

_HASH_BITS = 64
_RANK_BITS = _HASH_BITS - PRECISION  # 50 bits left after the index
MAX_RANK = _RANK_BITS + 1
"""The rank of a hash whose 50 remaining bits are all zero (so ranks fit in 6 bits)."""

# Flajolet et al. 2007, §"Practical considerations", for m >= 128.
_ALPHA = 0.7213 / (1 + 1.079 / REGISTERS)


def register_of(digest: bytes) -> tuple[int, int]:
    """The (register index, rank) a learner's keyed digest updates.

    The first 8 bytes of `digest` are read as a big-endian 64-bit hash `x`. The top
    PRECISION bits of `x` pick the register; the rank is the 1-based position of the first
    1-bit in the remaining 50 bits, i.e. their leading zeros + 1, and MAX_RANK (51) when
    they are all zero. A store keeps, per register, the largest rank it has seen, so
    concurrent writers need nothing but `rank = max(rank, new)` upserts.

    Raises ValueError for digests shorter than 64 bits: fewer bits would need the
    large-range correction of the 32-bit algorithm, which `estimate` does not apply.
    """
    if len(digest) < 8:
        raise ValueError(f"need a digest of at least 8 bytes, got {len(digest)}")
    x = int.from_bytes(digest[:8], "big")
    index = x >> _RANK_BITS
    rest = x & ((1 << _RANK_BITS) - 1)
    return index, _RANK_BITS - rest.bit_length() + 1


def estimate(registers: Mapping[int, int]) -> float:
    """The number of distinct digests fed to a sketch, estimated from its registers.

    `registers` is sparse: an index that is absent (or maps to 0) is an empty register.
    With m = REGISTERS and M[j] the rank in register j, this is HyperLogLog as in
    Flajolet, Fusy, Gandouet, Meunier, "HyperLogLog: the analysis of a near-optimal
    cardinality estimation algorithm", AofA 2007 (Fig. 3):

        E = alpha_m * m**2 / sum_j 2**(-M[j]),   alpha_m = 0.7213 / (1 + 1.079 / m)

    Small-range correction: if E <= 5m/2 and V registers are empty (V > 0), the estimate
    is linear counting, m * ln(m / V), which is near exact for small groups.

    There is no large-range correction: that one compensates for collisions in a 32-bit
    hash space, and with 64-bit hashes they are negligible far beyond any realistic count
    (Heule, Nunkesser, Hall, "HyperLogLog in Practice", EDBT 2013, §3). Heule et al.'s
    empirical bias correction is not applied either; between about 2.5m and 5m (≈ 41k to
    82k learners) the raw estimate is therefore biased upwards by up to about 1%.
    """
    ranks = [rank for rank in registers.values() if rank > 0]
    empty = REGISTERS - len(ranks)
    # Each empty register contributes 2**0 = 1 to the harmonic sum.
    harmonic = math.fsum(math.ldexp(1.0, -rank) for rank in ranks) + empty
    raw = _ALPHA * REGISTERS * REGISTERS / harmonic
    if raw <= 2.5 * REGISTERS and empty > 0:
        return REGISTERS * math.log(REGISTERS / empty)
    return raw


def merge(a: Mapping[int, int], b: Mapping[int, int]) -> dict[int, int]:
    """The register-wise max of two sketches: the sketch of the union of their inputs,
    e.g. several days of one activity rolled up into one figure."""
    merged = dict(a)
    for index, rank in b.items():
        if rank > merged.get(index, 0):
            merged[index] = rank
    return merged
