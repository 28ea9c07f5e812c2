"""Split assignment and near-duplicate removal."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from forge_export.splits import DigestSet, PromptDeduplicator, assign_split, split_point


def test_split_is_stable_across_processes() -> None:
    groups = [f"g{i}" for i in range(50)]
    here = [assign_split(g, 7, 0.3) for g in groups]
    code = (
        "from forge_export.splits import assign_split\n"
        f"print(','.join(assign_split(g, 7, 0.3) for g in {groups!r}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out.split(",") == here


def test_split_share_follows_test_size_and_seed() -> None:
    groups = [f"group-{i}" for i in range(4000)]
    share = sum(assign_split(g, 0, 0.2) == "test" for g in groups) / len(groups)
    assert 0.17 < share < 0.23
    assert all(assign_split(g, 0, 0.0) == "train" for g in groups[:100])
    assert all(assign_split(g, 0, 1.0) == "test" for g in groups[:100])
    assert [split_point(g, 0) for g in groups[:20]] != [split_point(g, 1) for g in groups[:20]]


def test_digest_set_matches_a_python_set_through_growth() -> None:
    rng = random.Random(1)
    ds, ref = DigestSet(capacity=4), set()
    values = [rng.getrandbits(64) for _ in range(20_000)] + [0, 1]
    values += values[:5000]
    for v in values:
        assert ds.add(v) == ((v or 1) not in ref)
        ref.add(v or 1)
    assert len(ds) == len(ref)
    assert all(v in ds for v in values[:1000])
    assert sum(rng.getrandbits(64) in ds for _ in range(1000)) == 0
    # compact: at most 32 bytes per item (a Python set of ints needs far more)
    assert ds.nbytes <= 32 * len(ref) + 64


@pytest.mark.parametrize(
    ("a", "b"),
    [("How do I kill it?", "  how DO i\tkill  it? "), ("Ｆｕｌｌ width", "full width")],
)
def test_near_duplicates_collide(a: str, b: str) -> None:
    d = PromptDeduplicator()
    assert not d.seen(a)
    assert d.add(a) is True
    assert d.seen(b)
    assert d.add(b) is False
    assert d.add(a + " more") is True
    assert len(d) == 2
