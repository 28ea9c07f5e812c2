"""``stats --diversity``: distinct-n and nearest-neighbour similarity on a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from forge_export import Provenance, Scenario, Turn
from scenario_forge.cli import main
from scenario_forge.diversity import distinct_n, diversity, features, nearest_neighbour
from scenario_forge.store import ScenarioStore

from .conftest import Cli

TEN = "one two three four five six seven eight nine ten"


def _s(prompt: str, target: str, kind: str = "human", **kw: object) -> Scenario:
    return Scenario(
        prompt=prompt,
        evaluation_target=target,
        success_criteria=["ok"],
        source=Provenance(kind=kind),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def filled(db_path: Path) -> Path:
    with ScenarioStore.open(db_path) as store:
        store.add_scenarios(
            [
                # near duplicates: B is A plus one word
                _s(TEN, "dupes", "import"),
                _s(TEN + " eleven", "dupes", "import"),
                # nothing shared
                _s("apple banana cherry", "distinct"),
                _s("kiwi lemon mango", "distinct"),
                # a multi-turn one: its user turns count, the assistant's do not
                _s(
                    "papaya quince",
                    "distinct",
                    context=[
                        Turn(role="user", content="raspberry"),
                        Turn(role="assistant", content="apple banana cherry"),
                    ],
                    metadata={"transforms": ["crescendo:2"]},
                ),
            ]
        )
    return db_path


def test_known_numbers_on_a_real_store(filled: Path, cli: Cli) -> None:
    r = cli("stats", "--diversity", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)["diversity"]
    dupes, distinct = d["by_target"]["dupes"], d["by_target"]["distinct"]
    # A: 10 unigrams + 9 bigrams, B: 11 + 10, all of A's in B → 19/21
    assert dupes["nn_similarity"] == pytest.approx(19 / 21, abs=1e-4)
    assert dupes["near_duplicates"] == 1.0
    assert dupes["distinct_1"] == pytest.approx(11 / 21, abs=1e-4)
    assert dupes["distinct_2"] == pytest.approx(10 / 19, abs=1e-4)
    assert distinct["nn_similarity"] == 0.0 and distinct["near_duplicates"] == 0.0
    assert distinct["distinct_1"] == 1.0 and distinct["n"] == 3
    assert d["by_source"]["import"]["nn_similarity"] == pytest.approx(19 / 21, abs=1e-4)
    assert d["by_source"]["human"]["nn_similarity"] == 0.0
    assert d["by_transform"]["crescendo:2"]["n"] == 1
    assert d["by_transform"]["none"]["n"] == 4
    assert d["all"]["n"] == 5
    # text output names every group
    r = cli("stats", "--diversity")
    assert r.exit_code == 0
    for word in ("distinct-1", "nn-sim", "dupes", "distinct", "import", "crescendo:2"):
        assert word in r.output


def test_adding_copies_lowers_diversity(filled: Path) -> None:
    with ScenarioStore.open(filled) as store:
        before = diversity(store).by_target["distinct"]
        store.add_scenarios([_s("Apple banana cherry!", "distinct")])
        after = diversity(store).by_target["distinct"]
    assert after.n == before.n + 1
    assert after.nn_similarity is not None and before.nn_similarity is not None
    assert after.nn_similarity > before.nn_similarity
    assert after.distinct_1 is not None and before.distinct_1 is not None
    assert after.distinct_1 < before.distinct_1


def test_sampling_is_reported(filled: Path, cli: Cli) -> None:
    r = cli("stats", "--diversity", "--max-per-target", "2", "--json")
    d = json.loads(r.stdout)["diversity"]
    assert d["sampled_targets"] == {"distinct": 2}
    assert d["by_target"]["distinct"]["n"] == 2


def test_helpers() -> None:
    assert distinct_n([["a", "a"], ["a", "b"]], 1) == 0.5
    assert distinct_n([["a"]], 2) is None
    nn = nearest_neighbour([features(["x", "y"]), features(["x", "y"]), features(["z"])])
    assert nn == [1.0, 1.0, 0.0]
    assert nearest_neighbour([features(["x"])]) == [None]


def test_no_store_is_one_line_error(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        main, ["stats", "--diversity"], env={"SCENARIO_FORGE_DB": str(tmp_path / "missing.db")}
    )
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1
    assert not (tmp_path / "missing.db").exists()
