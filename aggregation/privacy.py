"""Differential privacy of the aggregates (DESIGN §4): contribution bounds, calibrated noise
from OpenDP, release once, a budget per closed day. Nothing here draws noise by hand."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import opendp.prelude as dp

from statements.errors import Conflict, Problem

dp.enable_features("contrib")  # OpenDP's vetted mechanisms; a library switch, not global state

_PAIR_BYTES = 16


@dataclass(frozen=True)
class Privacy:
    """The configured guarantee. Each release (one closed day's figures of one query and
    filter combination) spends `epsilon`; a day's releases spend at most `budget_per_day`.
    A learner adds at most `hits_per_bucket` hits to one activity and hits to at most
    `buckets_per_learner` activities per key period; the rest is clipped."""

    epsilon: float
    delta: float
    budget_per_day: float
    hits_per_bucket: int
    buckets_per_learner: int

    @property
    def hits_bound(self) -> int:
        """Most hits one learner adds to all activities together in a key period."""
        return self.hits_per_bucket * self.buckets_per_learner


class BudgetSpent(Conflict):
    """A query needs a release its day's budget cannot pay for (answered 409)."""


def budget_spent(days: Sequence[str], privacy: Privacy, spent: float) -> BudgetSpent:
    """The refusal of a query that would exceed the budget of `days` (ISO dates)."""
    message = (f"the privacy budget of {', '.join(days)} is spent ({spent:g} of "
               f"{privacy.budget_per_day:g}, epsilon {privacy.epsilon:g} per release): "
               "figures released already stay available; ask a window or filters whose "
               "figures were released")
    return BudgetSpent(message, (Problem("?from", "the window's days have no budget left"),))


def contribution_digests(period_key: bytes, agent_key: str, activity: str
                         ) -> tuple[bytes, bytes]:
    """(learner, learner-and-activity) keyed digests for bounding contributions: HMAC-SHA256
    under the key period's learner key, stored only until that key is destroyed (when the
    period closes, both go), so afterwards nobody can tell whose they were."""
    person = hmac.digest(period_key, b"person\x00" + agent_key.encode(), "sha256")
    pair = hmac.digest(period_key, b"pair\x00" + agent_key.encode() + b"\x00"
                       + activity.encode(), "sha256")
    return person[:_PAIR_BYTES], pair[:_PAIR_BYTES]


@functools.lru_cache(maxsize=64)
def _threshold_mechanism(epsilon: float, delta: float, l0: int, l1: int, linf: int
                         ) -> tuple[dp.Measurement, int]:
    """OpenDP's Laplace threshold mechanism (Rogers 2023) on a map of counts whose keys are
    not known in advance, calibrated so one learner (changing up to `l0` keys, by up to `l1`
    in all and `linf` each) costs at most (epsilon, delta); and its threshold."""
    domain = dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T=int))
    metric = dp.l01inf_distance(dp.absolute_distance(T=int))
    scale = l1 / epsilon

    def make(threshold: int) -> dp.Measurement:
        return dp.m.make_laplace_threshold(domain, metric, scale=scale, threshold=threshold)

    def meets(threshold: float) -> bool:
        # OpenDP's Measurement.map has no annotations.
        spent_epsilon, spent_delta = make(int(threshold)).map(  # type: ignore[no-untyped-call]
            (l0, l1, linf))
        return bool(spent_epsilon <= epsilon * (1 + 1e-9) and spent_delta <= delta)

    threshold = int(dp.binary_search(meets, bounds=(linf, 1 << 30), T=int))
    return make(threshold), threshold


def noisy_counts(counts: Mapping[str, int], *, epsilon: float, delta: float, l0: int,
                 linf: int, l1: int | None = None) -> dict[str, int]:
    """`counts` with calibrated Laplace noise, keys whose noisy count falls under the noisy
    threshold left out (the noisy threshold replaces the fixed k: whether a key shows at all
    is private too). `l1` defaults to l0 * linf."""
    l0, linf = max(1, l0), max(1, linf)
    mechanism, _ = _threshold_mechanism(epsilon, delta, l0, l1 or l0 * linf, linf)
    released: dict[str, int] = mechanism(dict(counts))
    return released


def threshold_of(epsilon: float, delta: float, l0: int, linf: int, l1: int | None = None
                 ) -> int:
    """The threshold the mechanism of `noisy_counts` uses for these parameters."""
    l0, linf = max(1, l0), max(1, linf)
    return _threshold_mechanism(epsilon, delta, l0, l1 or l0 * linf, linf)[1]


@functools.lru_cache(maxsize=16)
def _vector_mechanism(epsilon: float, l1: int) -> dp.Measurement:
    return dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int),
                             scale=l1 / epsilon)


def noisy_vector(values: Sequence[int], *, epsilon: float, l1: int) -> list[int]:
    """Known buckets (an activity's hours of one day) with calibrated discrete Laplace noise
    from OpenDP; one learner changes them by at most `l1` in total."""
    released: list[int] = _vector_mechanism(epsilon, max(1, l1))(list(values))
    return released
