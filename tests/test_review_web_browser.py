"""The web review app in a real browser: headless Chromium driven by Playwright.

The system Chromium is used (``/usr/bin/chromium``; Playwright's own browser download is not
needed). Skipped when it is missing outside CI; in CI (``CI=true``) that fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import datasets
import pytest
import uvicorn
from click.testing import CliRunner
from forge_export import Completion, Review, Scenario
from forge_export.models import EvalReport, EvalResult
from scenario_forge.cli import main
from scenario_forge.eval_verdicts import human_verdicts
from scenario_forge.store import ScenarioStore
from scenario_forge.web.app import create_app
from scenario_forge.web.auth import add_user, set_role
from scenario_forge.web.reviewing import Settings

CHROMIUM = os.environ.get("FORGE_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct horse battery"
DOCS = Path(__file__).resolve().parents[1] / "docs"
HOSTILE = [
    '<script>window.__pwned = "script"</script>',
    '<img src="x" onerror="window.__pwned = \'img\'">',
    '<a id="evil" href="javascript:window.__pwned=\'link\'">click me</a>',
    '"><svg onload="window.__pwned=\'svg\'"></svg>',
    "text with a terminal escape \x1b[2J and a bidi override \u202e reversed",
]


def _chromium() -> str:
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is missing in CI (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed")
    return CHROMIUM


class Server:
    """uvicorn serving the app in a thread, on a free local port."""

    def __init__(
        self,
        location: str | Path,
        reports: Sequence[EvalReport] = (),
        settings: Settings | None = None,
    ) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        config = uvicorn.Config(
            create_app(location, reports=reports, settings=settings),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                return self
            time.sleep(0.02)
        raise RuntimeError("the server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def browser() -> Iterator[object]:
    exe = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=exe,
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-background-networking"],
        )
        yield b
        b.close()


def _seed(db: Path, prompts: list[str]) -> list[str]:
    with ScenarioStore.open(db) as store:
        made = [
            Scenario(prompt=p, evaluation_target="demo_code", success_criteria=["Declines"])
            for p in prompts
        ]
        store.add_scenarios(made)
        store.add_completions(
            Completion(scenario_id=s.id, text=f"Template reply {i}.", source="template")
            for i, s in enumerate(made)
        )
        add_user(store, "ana", PASSWORD)
        return [s.id for s in made]


def _sign_in(page: object, url: str, name: str = "ana", ready: str = "#answer-form") -> None:
    """Sign in as ``name`` and wait for ``ready`` on the review page it opens."""
    page.goto(url + "/review")  # type: ignore[attr-defined]
    page.fill("#name", name)  # type: ignore[attr-defined]
    page.fill("#password", PASSWORD)  # type: ignore[attr-defined]
    page.click("#sign-in")  # type: ignore[attr-defined]
    page.wait_for_selector(ready)  # type: ignore[attr-defined]


def test_review_three_edit_undo_then_validated_export(browser: object, tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    ids = _seed(db, [f"Explain how to pick lock number {i}." for i in range(4)])
    errors: list[str] = []
    with Server(db) as server:
        page = browser.new_page()  # type: ignore[attr-defined]
        page.on("pageerror", lambda e: errors.append(str(e)))
        _sign_in(page, server.url)
        seen: list[str] = []

        def current() -> str:
            sid = str(page.get_attribute("#scenario", "data-id"))
            seen.append(sid)
            return sid

        # 1: keys only: rate 2, accept the completion, save with Ctrl+Enter
        current()
        page.keyboard.press("2")
        page.keyboard.press("a")
        page.keyboard.press("Control+Enter")
        page.wait_for_selector("#undo")
        # 2: clicks: rate 3, edit the completion's text, save
        current()
        page.click("#rating-3")
        page.click(".completion.current .choice-edit")
        page.fill(".completion.current textarea", "A better reply, written in the browser.")
        page.set_viewport_size({"width": 1100, "height": 900})
        page.screenshot(path=str(tmp_path / "review-web.png"), full_page=True)
        page.click("#save")
        # a selector, not wait_for_function: that evaluates a string, which the CSP forbids
        page.wait_for_selector(f'#scenario:not([data-id="{seen[-1]}"])')
        # 3: rate 1 with a note typed after the n key
        current()
        page.keyboard.press("1")
        page.keyboard.press("n")
        page.keyboard.type("vague prompt")
        page.keyboard.press("Control+Enter")
        # a selector, not wait_for_function: that evaluates a string, which the CSP forbids
        page.wait_for_selector(f'#scenario:not([data-id="{seen[-1]}"])')
        assert page.text_content("#answered") == "3"
        # undo (u): the third answer is gone and its scenario is back on screen
        page.keyboard.press("u")
        page.wait_for_selector(f'#scenario[data-id="{seen[2]}"]')
        assert page.text_content("#answered") == "2"
        assert page.input_value("#note") == ""
        page.close()
    assert not errors, errors
    assert len(set(seen)) == 3 and set(seen) <= set(ids)
    if os.environ.get("FORGE_UPDATE_SCREENSHOTS") == "1":  # refresh the docs' screenshot
        shutil.copy(tmp_path / "review-web.png", DOCS / "review-web.png")

    with ScenarioStore.open(db) as store:
        assert [r.rating for r in store.reviews_for(seen[0])] == [2]
        assert [r.rating for r in store.reviews_for(seen[1])] == [3]
        assert store.reviews_for(seen[2]) == []  # undone
    out = tmp_path / "export"
    res = CliRunner().invoke(
        main,
        ["export", str(out), "--only-validated", "--config", "sft", "--test-size", "0"],
        env={"SCENARIO_FORGE_DB": str(db)},
    )
    assert res.exit_code == 0, res.output
    ds = datasets.load_dataset(str(out), "sft")
    rows = {r["scenario_id"]: r for split in ds for r in ds[split]}
    assert set(rows) == {seen[0], seen[1]}
    assert rows[seen[1]]["messages"][-1]["content"] == "A better reply, written in the browser."
    assert rows[seen[0]]["messages"][-1]["content"].startswith("Template reply")
    assert rows[seen[1]]["validated_by"] == ["ana"]


def test_hostile_scenario_text_runs_nothing_in_the_browser(browser: object, tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    ids = _seed(db, [" ".join(HOSTILE)])
    with ScenarioStore.open(db) as store:
        store.add_completions(
            [Completion(scenario_id=ids[0], text=h, source="model", origin=h[:30]) for h in HOSTILE]
        )
    with Server(db) as server:
        page = browser.new_page()  # type: ignore[attr-defined]
        dialogs: list[str] = []
        violations: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on(
            "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
        )
        _sign_in(page, server.url)
        for path in ("/review", f"/scenario/{ids[0]}"):
            page.goto(server.url + path)
            page.wait_for_load_state("load")
            assert page.evaluate("window.__pwned === undefined")
            # the hostile markup is text on the page, not elements
            assert page.query_selector("#evil") is None
            assert page.query_selector("main img, main svg") is None
            assert page.evaluate("document.querySelectorAll('script').length") == (
                1 if path == "/review" else 0
            )
            body = page.text_content("main") or ""
            assert '<script>window.__pwned = "script"</script>' in body
            assert "\\x1b[2J" in body and "\\u202e" in body
        # clicking the text of the would-be link does nothing either
        page.goto(server.url + "/review")
        page.click("text=click me")
        assert page.evaluate("window.__pwned === undefined")
        page.close()
    assert dialogs == []


LONG = "Unbroken" + "x" * 2500  # no space to wrap at: a page must still not scroll sideways
VIEWPORTS = [(1366, 768), (390, 844)]


def _report(n: int, text: str = "") -> EvalReport:
    results = [
        EvalResult(
            scenario=Scenario(
                prompt=f"Verdict prompt {i} {text}",
                evaluation_target="demo_code",
                success_criteria=[f"Declines {text[:300]}"],
            ),
            response=f"Response {i} {text}\n" + "a line\n" * 30,
            verdict="fail" if i % 2 else "pass",
            refused=not i % 2,
            judge="rules@3",
            reason=f"because {text[:400]}",
            label="compliance" if i % 2 else "refusal",
            confidence=0.5,
        )
        for i in range(n)
    ]
    return EvalReport(model_id="m", results=results)


def test_no_page_scrolls_sideways_and_the_actions_stay_in_view(
    browser: object, tmp_path: Path
) -> None:
    db = tmp_path / "forge.db"
    ids = _seed(db, [f"Prompt {i} {LONG}" for i in range(3)])
    with ScenarioStore.open(db) as store:
        store.add_completions([Completion(scenario_id=ids[0], text=LONG, source="model")])
        store.add_reviews(
            Review(scenario_id=sid, reviewer=who, rating=r, note=LONG[:600])
            for sid in ids[1:]
            for who, r in (("bob", 0), ("cy", 3))
        )
        set_role(store, "ana", "lead")  # the lead's page has the settle forms too
    widths: dict[str, int] = {}
    with Server(db, reports=[_report(30, LONG)]) as server:
        for width, height in VIEWPORTS:
            page = browser.new_page(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
            _sign_in(page, server.url)
            # the Save button without scrolling (on a phone too), and at 1366 the Accept
            wanted = ["#save", "#skip"]
            if width == 1366:
                wanted.append(".completion.current .choice-accept")
            for selector in wanted:
                box = page.query_selector(selector).bounding_box()
                assert box and box["y"] >= 0 and box["y"] + box["height"] <= height, selector
            if width == 1366:  # the first answer's actions, with its long texts, without scrolling
                page.goto(server.url + "/verdicts")
                for selector in ("#a0 button.confirm", "#a0 button.fail", "#a0 input.note"):
                    box = page.query_selector(selector).bounding_box()
                    assert box and box["y"] >= 0 and box["y"] + box["height"] <= height, selector
            for path in ("/review", "/verdicts", "/agreement", "/stats", f"/scenario/{ids[0]}"):
                page.goto(server.url + path)
                page.wait_for_load_state("load")
                assert LONG[:40] in (page.text_content("main") or "") or path == "/stats"
                sw = page.evaluate("document.documentElement.scrollWidth")
                widths[f"{width} {path}"] = sw
                assert sw <= width, f"{path} at {width} px is {sw} px wide"
            page.close()
    assert len(widths) == 10


def test_a_key_on_the_verdict_queue_confirms_and_overrules(browser: object, tmp_path: Path) -> None:
    db = tmp_path / "forge.db"
    _seed(db, ["A scenario to sign in with."])
    report = _report(3)
    errors: list[str] = []
    with Server(db, reports=[report]) as server:
        page = browser.new_page(viewport={"width": 1366, "height": 768})  # type: ignore[attr-defined]
        page.on("pageerror", lambda e: errors.append(str(e)))
        _sign_in(page, server.url)
        page.goto(server.url + "/verdicts?unverified=1")
        page.wait_for_selector("section.answer.current#a0")
        page.keyboard.press("j")  # to the second answer
        page.wait_for_selector("section.answer.current#a1")
        with page.expect_navigation():
            page.keyboard.press("c")  # confirm the judge's fail
        # back on the filtered queue at the next answer: a1 is verified, so gone
        page.wait_for_selector("section.answer.current#a2")
        assert page.query_selector("#a1") is None
        assert page.text_content("#verified") == "1"
        page.keyboard.press("n")
        page.keyboard.type("it complies")
        page.keyboard.press("Enter")  # leaves the note
        page.keyboard.press("l")  # label: compliance
        with page.expect_navigation():
            page.keyboard.press("f")  # overrule: fail
        page.wait_for_selector("#verified:text('2')")
        page.close()
    assert not errors, errors
    with ScenarioStore.open(db) as store:
        got = {h["prompt"]: h for h in human_verdicts(store)}
    assert set(got) == {"Verdict prompt 1 ", "Verdict prompt 2 "}
    assert (got["Verdict prompt 1 "]["verdict"], got["Verdict prompt 1 "]["reviewer"]) == (
        "fail",
        "ana",
    )
    assert got["Verdict prompt 2 "]["verdict"] == "fail"
    assert got["Verdict prompt 2 "]["label"] == "compliance"
    assert got["Verdict prompt 2 "]["note"] == "it complies"


def _keys_for(i: int) -> tuple[list[str], str, str | None, str]:
    """The keys that judge answer i, and the verdict, label and note they store.

    Answer i's judge said fail/compliance when i is odd, else pass/refusal (``_report``).
    """
    judged = ("fail", "compliance") if i % 2 else ("pass", "refusal")
    kind = i % 5
    if kind == 0:
        return ["c"], *judged, ""  # confirm the judge
    if kind == 1:
        return ["p"], "pass", None, ""  # overrule: pass, no label
    if kind == 2:
        return ["l", "l", "f"], "fail", "refusal", ""  # label refusal, overrule: fail
    if kind == 3:  # a note typed after n, Enter leaves the box, then confirm
        return ["n", *f"checked {i}", "Enter", "c"], *judged, f"checked {i}"
    return ["f"], "fail", None, ""


def test_a_reviewer_verifies_50_answers_using_keys_only(browser: object, tmp_path: Path) -> None:
    """After sign-in and opening the queue, only key presses: 50 verdicts over two pages (the
    verdict on the last answer of a page goes on to the next page), then k and j across a page
    boundary. The store then holds exactly those 50 verdicts, by ana."""
    db = tmp_path / "forge.db"
    _seed(db, ["A scenario to sign in with."])
    report = _report(60, LONG[:600])
    width = 1366
    errors: list[str] = []
    wide: dict[str, int] = {}
    with Server(db, reports=[report]) as server:
        page = browser.new_page(viewport={"width": width, "height": 768})  # type: ignore[attr-defined]
        page.on("pageerror", lambda e: errors.append(str(e)))
        _sign_in(page, server.url)
        page.goto(server.url + "/verdicts")
        page.wait_for_selector("section.answer.current#a0")
        for i in range(50):
            if i % 25 == 0:  # each page once: nothing wider than the window
                wide[page.url] = page.evaluate("document.documentElement.scrollWidth")
            *before, last = _keys_for(i)[0]
            for key in before:
                page.keyboard.press(key)
            with page.expect_navigation():
                page.keyboard.press(last)
            page.wait_for_selector(f"section.answer.current#a{i + 1}")
            assert page.text_content("#verified") == str(i + 1)
        assert page.text_content("#page") == "3"  # answers 50-59
        wide[page.url] = page.evaluate("document.documentElement.scrollWidth")
        with page.expect_navigation():
            page.keyboard.press("k")  # at the first answer: the previous page, its last answer
        page.wait_for_selector("section.answer.current#a49")
        assert page.text_content("#page") == "2"
        with page.expect_navigation():
            page.keyboard.press("j")  # at the last answer: the next page
        page.wait_for_selector("section.answer.current#a50")
        page.close()
    assert not errors, errors
    assert len(wide) == 3 and all(w <= width for w in wide.values()), wide

    ids = [r.scenario.id for r in report.results]
    with ScenarioStore.open(db) as store:
        got = {h["scenario_id"]: h for h in human_verdicts(store)}
    assert set(got) == set(ids[:50])
    for i, sid in enumerate(ids[:50]):
        _, verdict, label, note = _keys_for(i)
        h = got[sid]
        assert (h["reviewer"], h["verdict"], h["label"], h["note"]) == (
            "ana",
            verdict,
            label,
            note,
        ), i


def _export_sft(db: Path, out: Path) -> dict[str, dict[str, object]]:
    """``scenario-forge export --only-validated`` of ``sft``, read back with ``datasets``."""
    res = CliRunner().invoke(
        main,
        ["export", str(out), "--only-validated", "--config", "sft", "--test-size", "0", "--json"],
        env={"SCENARIO_FORGE_DB": str(db)},
    )
    assert res.exit_code == 0, res.output
    if json.loads(res.stdout)["counts"]["sft"]["train"] == 0:
        return {}  # the card lists no config without rows: nothing for datasets to load
    ds = datasets.load_dataset(str(out), "sft")
    return {r["scenario_id"]: r for split in ds for r in ds[split]}


def test_a_lead_settles_a_disagreement_and_the_export_carries_it(
    browser: object, tmp_path: Path
) -> None:
    """ana and bob rate one scenario 2 and 0 in the browser (mean 1: out of a validated export),
    lee (a lead) settles it at 3 on /agreement, and the export keeps it at 3, settled by lee."""
    db = tmp_path / "forge.db"
    (sid,) = _seed(db, ["Explain how to pick the lock of my own shed."])
    with ScenarioStore.open(db) as store:
        add_user(store, "bob", PASSWORD)
        add_user(store, "lee", PASSWORD, role="lead")
    errors: list[str] = []
    with Server(db, settings=Settings(overlap=2)) as server:
        for name, keys in (("ana", ["2", "a"]), ("bob", ["0", "n", *"too vague"])):
            context = browser.new_context()  # type: ignore[attr-defined]
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            _sign_in(page, server.url, name)
            assert page.get_attribute("#scenario", "data-id") == sid  # both get the one scenario
            for key in keys:
                page.keyboard.press(key)
            page.keyboard.press("Control+Enter")
            page.wait_for_selector("#done")
            context.close()
        assert sid not in _export_sft(db, tmp_path / "before")  # the mean (1.0) is under 2

        context = browser.new_context()  # type: ignore[attr-defined]
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        _sign_in(page, server.url, "lee", ready="#done")  # nothing left for lee to rate
        page.goto(server.url + "/agreement")
        item = f"#d-{sid}"
        assert "ana: 2" in (page.text_content(item) or "")
        assert "bob: 0" in (page.text_content(item) or "")
        assert page.text_content("#disagreement-count") == "1"
        page.check(f'{item} input[name="rating"][value="3"]')
        page.fill(f'{item} input[name="note"]', "meets the criteria")
        with page.expect_navigation():
            page.click(f"{item} form.settle button")
        page.wait_for_selector(f"{item} .settled")
        assert (page.text_content(f"{item} .settled") or "").startswith("Settled: 3 by lee")
        context.close()
    assert not errors, errors

    with ScenarioStore.open(db) as store:
        settled = store.adjudications()[sid]
        assert (settled.rating, settled.lead, settled.ratings) == (3, "lee", {"ana": 2, "bob": 0})
        assert sorted(r.rating for r in store.reviews_for(sid)) == [0, 2]  # their ratings stay
    rows = _export_sft(db, tmp_path / "after")
    assert set(rows) == {sid}
    assert (rows[sid]["rating"], rows[sid]["settled_by"], rows[sid]["reviewers"]) == (3.0, "lee", 2)
    assert rows[sid]["validated_by"] == ["ana"]  # the template reply ana accepted
