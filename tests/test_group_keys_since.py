"""Grouping keys taken from the last build (``GroupKeys.kept``): a rebuild makes again only
the keys of sets whose papers, topics or similar-paper lists changed. Every key it takes
must be the key it would have made, and a catalog rebuilt through the memo must equal one
made without it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any

import pytest

import generator.groups as groups_module
from generator.catalog import build_catalog
from generator.config import SiteConfig
from generator.groups import GroupKeys
from generator.model import Paper, SeedFile, Topic
from generator.topics import TopicResult
from tests.conftest import seed_stages

Similar = dict[str, tuple[tuple[str, float], ...]]
Inputs = tuple[tuple[Paper, ...], tuple[SeedFile, ...], TopicResult, Similar, SiteConfig]
Task = tuple[tuple[str, ...], str, bool]


@pytest.fixture(scope="module")
def inputs() -> Inputs:
    files, papers, topics, similar, config = seed_stages()
    return papers, files, topics, similar, config


def _tasks(inputs: Inputs) -> list[Task]:
    """Sets as the catalog groups them: each listing's papers and each author's."""
    papers, files, topics, similar, config = inputs
    catalog, _ = build_catalog(papers, files, topics, similar, config)
    tasks: list[Task] = [(li.paper_ids, li.name, False) for li in catalog.listings]
    tasks += [(a.paper_ids, a.name, True) for a in catalog.authors if len(a.paper_ids) > 1]
    return tasks


def _key(keyer: GroupKeys, by_id: dict[str, Paper], task: Task) -> str:
    ids, name, use_similar = task
    return keyer.key([by_id[i] for i in ids], ignore_names=(name,), use_similar=use_similar)


def _kept_keys_agree(
    before: tuple[tuple[Paper, ...], dict[str, tuple[str, ...]], list[Topic], Similar],
    after: tuple[tuple[Paper, ...], dict[str, tuple[str, ...]], list[Topic], Similar],
    tasks: list[Task],
    tasks_after: list[Task] | None = None,
) -> int:
    """How many keys ``kept`` takes for ``after``; asserts each is the key made again."""
    papers, paper_topics, topics, similar = before
    old = GroupKeys(paper_topics, topics, similar)
    by_id = {p.id: p for p in papers}
    record = old.record(papers, tasks, [_key(old, by_id, t) for t in tasks])
    papers, paper_topics, topics, similar = after
    new = GroupKeys(paper_topics, topics, similar)
    by_id = {p.id: p for p in papers}
    now = tasks_after or tasks
    kept = new.kept(record, papers, now)
    fresh = GroupKeys(paper_topics, topics, similar)
    assert {t: _key(fresh, by_id, now[t]) for t in kept} == kept
    return len(kept)


def _paper_in_sets(tasks: list[Task], similar: Similar) -> str:
    """A paper in an author's set that some other paper lists as similar."""
    shown = {pid for near in similar.values() for pid, _ in near}
    return next(i for ids, _, use in tasks if use for i in ids if i in shown)


def _other(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, tuple):
        return (*value, value[0]) if value else ("x",)
    return "x"


@pytest.mark.parametrize("field", [f.name for f in fields(Paper) if f.name != "id"])
def test_keys_kept_after_a_paper_field_changes_are_the_keys_made_again(
    inputs: Inputs, field: str
) -> None:
    papers, _, topics, similar, _ = inputs
    tasks = _tasks(inputs)
    pid = _paper_in_sets(tasks, similar)
    p = next(x for x in papers if x.id == pid)
    value: Any = "derived" if field == "title_source" else _other(getattr(p, field))
    edited = tuple(replace(x, **{field: value}) if x.id == pid else x for x in papers)
    state = (papers, dict(topics.paper_topics), list(topics.topics), similar)
    kept = _kept_keys_agree(state, (edited, *state[1:]), tasks)
    if field in ("abstract", "title", "title_source", "authors", "category"):  # grouping reads
        touched = sum(1 for ids, _, _ in tasks if pid in ids)
        assert 0 < touched < len(tasks)
        assert kept == len(tasks) - touched
    else:
        assert kept == len(tasks)


def _similar_changed(s: Similar, pid: str) -> Similar:
    near = s[pid]
    return {**s, pid: ((near[0][0], near[0][1] / 2), *near[1:])}


EDITS: dict[str, Callable[[Inputs, str], tuple[Any, ...]]] = {
    "similar list": lambda i, pid: (
        i[0],
        dict(i[2].paper_topics),
        list(i[2].topics),
        _similar_changed(i[3], pid),
    ),
    "paper's topics": lambda i, pid: (
        i[0],
        {**i[2].paper_topics, pid: (*i[2].paper_topics.get(pid, ()), i[2].topics[0].id)},
        list(i[2].topics),
        i[3],
    ),
    "topic renamed": lambda i, pid: (
        i[0],
        dict(i[2].paper_topics),
        [
            replace(t, name=t.name + " x") if t.id in i[2].paper_topics.get(pid, ()) else t
            for t in i[2].topics
        ],
        i[3],
    ),
}


@pytest.mark.parametrize("what", sorted(EDITS))
def test_keys_kept_after_topics_or_similar_lists_change_are_the_keys_made_again(
    inputs: Inputs, what: str
) -> None:
    _, _, topics, similar, _ = inputs
    tasks = _tasks(inputs)
    pid = next(i for ids, _, use in tasks if use for i in ids if similar.get(i))
    state = (inputs[0], dict(topics.paper_topics), list(topics.topics), similar)
    kept = _kept_keys_agree(state, EDITS[what](inputs, pid), tasks)
    assert kept < len(tasks)


def test_a_renamed_or_changed_set_is_keyed_again(inputs: Inputs) -> None:
    _, _, topics, similar, _ = inputs
    tasks = _tasks(inputs)
    state = (inputs[0], dict(topics.paper_topics), list(topics.topics), similar)
    ids, name, use = tasks[-1]
    renamed = [*tasks[:-1], (ids, name + " x", use)]
    assert _kept_keys_agree(state, state, tasks, renamed) == len(tasks) - 1
    shorter = [*tasks[:-1], (ids[:-1], name, use)]
    assert _kept_keys_agree(state, state, tasks, shorter) == len(tasks) - 1
    assert _kept_keys_agree(state, state, tasks, tasks[:-1]) == 0  # another list of sets


def test_a_catalog_rebuilt_through_edits_equals_one_made_without_memo(
    inputs: Inputs, monkeypatch: pytest.MonkeyPatch
) -> None:
    papers, files, topics, similar, config = inputs
    made: list[int] = []
    original = GroupKeys.key

    def key(self: GroupKeys, *args: Any, **kwargs: Any) -> str:
        made.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(groups_module.GroupKeys, "key", key)
    tasks = _tasks(inputs)
    pid = _paper_in_sets(tasks, similar)

    def edit(**changes: Any) -> tuple[Paper, ...]:
        return tuple(replace(p, **changes) if p.id == pid else p for p in papers)

    steps: list[tuple[tuple[Paper, ...], Similar]] = [
        (papers, similar),
        (papers, similar),  # the first rebuild keeps the record
        (edit(abstract="Changed."), similar),
        (edit(abstract="Changed.", title="A new title"), similar),
        (edit(abstract="Changed."), _similar_changed(similar, pid)),
        (edit(authors=("Ada Lovelace",)), similar),
        (papers, similar),
    ]
    memo: dict[str, Any] = {}
    for i, (step, near) in enumerate(steps):
        made.clear()
        warm, _ = build_catalog(step, files, topics, near, config, memo=memo)
        keyed = len(made)
        cold, _ = build_catalog(step, files, topics, near, config)
        assert warm == cold, f"step {i}"
        if i in (2, 3, 4):  # only the sets of the paper edited are keyed again
            assert 0 < keyed < len(tasks) / 4
