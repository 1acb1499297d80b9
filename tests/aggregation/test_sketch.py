"""The unique-learner sketch (DESIGN §4): register layout, accuracy, merging, day keys."""

from __future__ import annotations

import random
from collections.abc import Iterable

import pytest

from aggregation.learners import learner_digest, new_day_key
from aggregation.sketch import MAX_RANK, PRECISION, REGISTERS, estimate, merge, register_of

DAY_KEY = bytes(range(32))  # fixed, so every estimate below is deterministic
STREAM = 200_000

Place = tuple[int, int]


def places(first: int, stop: int, day_key: bytes = DAY_KEY) -> list[Place]:
    """The (register, rank) of learners first..stop-1, as ingest computes them."""
    return [register_of(learner_digest(day_key, f"mbox:learner{i}@example.org"))
            for i in range(first, stop)]


def sketch(updates: Iterable[Place]) -> dict[int, int]:
    """Registers as a store keeps them: per register, the max rank upserted."""
    registers: dict[int, int] = {}
    for register, rank in updates:
        if rank > registers.get(register, 0):
            registers[register] = rank
    return registers


@pytest.fixture(scope="module")
def stream() -> list[Place]:
    """200,000 distinct learners, hashed once for the whole module."""
    return places(0, STREAM)


def relative_error(registers: dict[int, int], truth: int) -> float:
    return abs(estimate(registers) - truth) / truth


@pytest.mark.parametrize(("index", "rest", "rank"), [
    (0, 1 << 49, 1),  # first remaining bit set
    (0x2A5, 1 << 46, 4),  # three leading zeros
    ((1 << PRECISION) - 1, 1, 50),  # only the last bit set
    (7, 0, MAX_RANK),  # all 50 remaining bits zero
])
def test_register_of_splits_index_and_rank(index: int, rest: int, rank: int) -> None:
    digest = ((index << (64 - PRECISION)) | rest).to_bytes(8, "big")
    assert register_of(digest) == (index, rank)


def test_register_of_reads_first_eight_bytes_of_longer_digest() -> None:
    digest = bytes.fromhex("8000000000000001")
    assert register_of(digest + b"\xff" * 24) == register_of(digest) == (REGISTERS // 2, 50)


def test_register_of_rejects_digest_shorter_than_64_bits() -> None:
    with pytest.raises(ValueError, match="8 bytes"):
        register_of(b"\xff" * 7)


def test_estimate_is_zero_for_empty_sketch() -> None:
    assert estimate({}) == 0.0
    assert estimate(dict.fromkeys(range(10), 0)) == 0.0  # explicit zeros are empty too


def test_estimate_within_2_percent_at_100k_learners(stream: list[Place]) -> None:
    assert relative_error(sketch(stream[:100_000]), 100_000) < 0.02


@pytest.mark.parametrize("truth", [1_000, 2_000, 5_000, 10_000, 20_000, 30_000, 40_000,
                                   42_500, 45_000, 50_000, 60_000, 100_000, 150_000, 200_000])
def test_estimate_within_2_percent_across_cardinalities(stream: list[Place],
                                                        truth: int) -> None:
    assert relative_error(sketch(stream[:truth]), truth) < 0.02


@pytest.mark.parametrize("truth", [1, 5, 10, 100])
def test_estimate_near_exact_for_small_groups(stream: list[Place], truth: int) -> None:
    # With nearly every register empty, the estimate is close to exact.
    assert abs(estimate(sketch(stream[:truth])) - truth) <= max(2, 0.05 * truth)


def test_sketch_unchanged_by_duplicates(stream: list[Place]) -> None:
    once = sketch(stream[:20_000])
    repeated = stream[:20_000] * 3
    random.Random(7).shuffle(repeated)
    assert sketch(repeated) == once
    assert estimate(sketch(repeated)) == estimate(once)


def test_merge_equals_sketch_of_union(stream: list[Place]) -> None:
    monday, tuesday = sketch(stream[:60_000]), sketch(stream[40_000:100_000])  # 20k overlap
    union = sketch(stream[:100_000])
    assert merge(monday, tuesday) == merge(tuesday, monday) == union
    assert merge(union, {}) == union
    assert relative_error(merge(monday, tuesday), 100_000) < 0.02


def test_merge_leaves_its_inputs_alone() -> None:
    a, b = {1: 3, 2: 5}, {2: 7, 3: 1}
    assert merge(a, b) == {1: 3, 2: 7, 3: 1}
    assert (a, b) == ({1: 3, 2: 5}, {2: 7, 3: 1})


def test_learner_digest_is_8_bytes_and_stable_under_one_key() -> None:
    digest = learner_digest(DAY_KEY, "mbox:ada@example.org")
    assert len(digest) == 8
    assert digest == learner_digest(DAY_KEY, "mbox:ada@example.org")
    assert digest != learner_digest(DAY_KEY, "mbox:bob@example.org")


def test_new_day_key_is_32_fresh_random_bytes() -> None:
    first, second = new_day_key(), new_day_key()
    assert len(first) == len(second) == 32
    assert first != second


def test_learner_registers_unrelated_across_day_keys(stream: list[Place]) -> None:
    # A closed day's key is destroyed; a new key maps the same people elsewhere, so
    # hashing a suspect with it says nothing about the closed day's registers.
    people = 10_000
    old, new = stream[:people], places(0, people, bytes(range(32, 64)))  # fixed: deterministic
    same_register = sum(o[0] == n[0] for o, n in zip(old, new, strict=True))
    assert same_register <= 10  # chance alone gives people / m ≈ 0.6
    # Pooled, the same 10,000 people look like 20,000 strangers.
    assert relative_error(merge(sketch(old), sketch(new)), 2 * people) < 0.02
