"""Similar papers ranked by this process and forked ones claiming blocks of rows one at a
time (``generator.similar._rank_blocks``): the same lists as a serial ranking, whatever the
number of processes, and a block claimed by a process that ended without sending its lists
is ranked by this one."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Sequence

import pytest

import generator.similar as similar_module
from generator.model import Paper
from generator.similar import find_similar
from generator.topics import TopicConfig, assign_topics

pytestmark = pytest.mark.skipif(
    "fork" not in mp.get_all_start_methods(), reason="ranking forks processes"
)


def _papers() -> tuple[list[Paper], dict[str, tuple[str, ...]]]:
    from tests.test_topics_planted import _corpus

    papers, _, _ = _corpus()
    return papers, dict(assign_topics(papers, TopicConfig()).paper_topics)


@pytest.mark.parametrize("workers, block", [(2, 64), (3, 17), (2, 1), (8, 50)])
def test_claimed_blocks_give_the_serial_lists(workers: int, block: int) -> None:
    papers, topics = _papers()
    serial = find_similar(papers, topics, block=block)
    assert any(serial.values())  # the corpus has similar papers to rank
    assert find_similar(papers, topics, workers=workers, block=block) == serial


def test_a_block_lost_with_its_process_is_ranked_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """A forked process that claims a block and ends before sending anything (killed, out
    of memory): its block is ranked by this process, and the lists are complete."""
    papers, topics = _papers()
    serial = find_similar(papers, topics, block=16)
    parent = os.getpid()
    rank_claimed = similar_module._rank_claimed
    lost: list[int] = []

    def claim_one_and_die(
        job: similar_module._Ranking,
        bounds: Sequence[tuple[int, int]],
        claims: similar_module._Claims,
    ) -> list[tuple[int, similar_module._Ranked]]:
        if os.getpid() != parent:
            claims.take()  # the child takes a block, then ends without a word
            os._exit(1)
        if not lost:  # the parent's own pass starts once the child has taken its block
            waited = time.monotonic() + 30
            while claims._next.value == 0 and time.monotonic() < waited:
                time.sleep(0.001)
        found = rank_claimed(job, bounds, claims)
        lost.append(len(bounds) - len(found))
        return found

    monkeypatch.setattr(similar_module, "_rank_claimed", claim_one_and_die)
    assert find_similar(papers, topics, workers=2, block=16) == serial
    # the parent's own pass left the child's block; the parent's run of the child's call
    # (its fallback) found nothing left to claim
    assert lost == [1, len(range(0, len(papers), 16))]


@pytest.mark.parametrize("workers", [2, 3])
def test_ranked_by_forked_processes_only(monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    """Above ``RANK_HERE_MAX`` papers this process only waits while the forked ones claim
    and rank every block; at or below it, it claims blocks too. The lists are the serial
    ones either way."""
    papers, topics = _papers()
    serial = find_similar(papers, topics, block=16)
    parent = os.getpid()
    claimed_here: list[int] = []
    rank_claimed = similar_module._rank_claimed

    def spy(
        job: similar_module._Ranking,
        bounds: Sequence[tuple[int, int]],
        claims: similar_module._Claims,
    ) -> list[tuple[int, similar_module._Ranked]]:
        if os.getpid() == parent:
            claimed_here.append(1)
        return rank_claimed(job, bounds, claims)

    monkeypatch.setattr(similar_module, "_rank_claimed", spy)
    monkeypatch.setattr(similar_module, "RANK_HERE_MAX", len(papers) - 1)
    assert find_similar(papers, topics, workers=workers, block=16) == serial
    assert not claimed_here
    monkeypatch.setattr(similar_module, "RANK_HERE_MAX", len(papers))
    assert find_similar(papers, topics, workers=workers, block=16) == serial
    assert claimed_here == [1]
