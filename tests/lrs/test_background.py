"""The serving process's timed work (lrs.background): repeated, survives a failing round,
stopped with the block, never started at 0 minutes."""

from __future__ import annotations

import asyncio
import logging

import pytest

from lrs.background import every

log = logging.getLogger("tests.background")


async def test_every_repeats_a_step_and_a_failing_round_is_logged_not_fatal(
        caplog: pytest.LogCaptureFixture) -> None:
    rounds: list[int] = []

    async def step() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("the store went away")

    async with every(0.0001, step, log=log, what="the test's step"):
        for _ in range(500):
            if len(rounds) >= 3:
                break
            await asyncio.sleep(0.005)
    assert len(rounds) >= 3
    assert [r.message for r in caplog.records] == ["the test's step failed"]
    stopped_at = len(rounds)
    await asyncio.sleep(0.05)
    assert len(rounds) == stopped_at  # cancelled with the block


async def test_every_zero_minutes_never_runs() -> None:
    rounds: list[int] = []

    async def step() -> None:
        rounds.append(1)

    async with every(0, step, log=log, what="never"):
        await asyncio.sleep(0.05)
    assert rounds == []
