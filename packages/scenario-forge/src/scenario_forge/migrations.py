"""Numbered schema migrations of the scenario store, recorded in ``PRAGMA user_version``.

The schema version of a store is the number of migrations applied to it. :data:`MIGRATIONS`
is an ordered list of small functions; migration ``n`` (1-based) turns a version ``n - 1``
store into a version ``n`` store. Add a migration by appending a function decorated with
``@migration``: never edit or reorder one that has shipped.

The idea comes from simonw/llm's ``migrations.py``; here the version lives in
``user_version`` (one integer in the file header) instead of a table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]

MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    """Register ``fn`` as the next migration (decorator)."""
    MIGRATIONS.append(fn)
    return fn


def latest_version() -> int:
    """The schema version this code writes: the number of known migrations."""
    return len(MIGRATIONS)


def current_version(conn: sqlite3.Connection) -> int:
    """The ``user_version`` of the open database (PostgreSQL: ``forge_schema.version``)."""
    if getattr(conn, "backend", "sqlite") == "postgresql":
        from scenario_forge.pg_migrations import pg_current_version

        return pg_current_version(conn)
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def apply_migrations(conn: sqlite3.Connection, start: int) -> int:
    """Run migrations ``start + 1 .. latest`` on ``conn`` (inside the caller's transaction).

    Returns:
        The new version.
    """
    if getattr(conn, "backend", "sqlite") == "postgresql":
        from scenario_forge.pg_migrations import pg_apply_migrations

        return pg_apply_migrations(conn, start)
    for number, fn in enumerate(MIGRATIONS[start:], start=start + 1):
        fn(conn)
        # PRAGMA does not accept parameters; number is an int we computed.
        conn.execute(f"PRAGMA user_version = {int(number)}")
    return latest_version()


def _run(conn: sqlite3.Connection, script: str) -> None:
    """Execute ``;``-separated DDL statements one by one.

    ``executescript`` would COMMIT the caller's transaction first; a migration must run inside
    it so that a failure leaves the store at its old version.
    """
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


@migration
def m001_initial(conn: sqlite3.Connection) -> None:
    """Scenarios, completions, reviews, review claims and the audit log."""
    _run(
        conn,
        """
        CREATE TABLE scenarios (
            id TEXT PRIMARY KEY,
            evaluation_target TEXT NOT NULL,
            expected_behavior TEXT NOT NULL,
            group_id TEXT NOT NULL,
            source_kind TEXT NOT NULL,
            source_origin TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            data TEXT NOT NULL
        );
        CREATE TABLE completions (
            id TEXT PRIMARY KEY,
            scenario_id TEXT NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            source TEXT NOT NULL,
            origin TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'proposed',
            validated_by TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}'
        );
        CREATE TABLE reviews (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            scenario_id TEXT NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
            reviewer TEXT NOT NULL,
            rating INTEGER NOT NULL CHECK (rating BETWEEN 0 AND 3),
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE TABLE review_claims (
            scenario_id TEXT NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
            reviewer TEXT NOT NULL,
            claimed_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            PRIMARY KEY (scenario_id, reviewer)
        );
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            details TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX idx_scenarios_target ON scenarios(evaluation_target);
        CREATE INDEX idx_scenarios_group ON scenarios(group_id);
        CREATE INDEX idx_scenarios_source ON scenarios(source_kind);
        CREATE INDEX idx_completions_scenario ON completions(scenario_id);
        CREATE INDEX idx_reviews_scenario ON reviews(scenario_id);
        CREATE INDEX idx_review_claims_expires ON review_claims(expires_at);
        CREATE INDEX idx_audit_entity ON audit_log(entity, entity_id);
        """,
    )


@migration
def m002_review_queue(conn: sqlite3.Connection) -> None:
    """Review queue: per-scenario reviewer and claim counts, kept by triggers and indexed.

    ``review_state.taken`` = distinct reviewers + live claims; the review flow's next-item
    query reads one index range (``taken = k`` [per target]) instead of scanning scenarios.
    ``rid`` is insertion order, so the indexes grow by appending (cheap inserts) and the queue
    hands scenarios out oldest first.
    Added by the review work (``scenario_forge.review``).
    """
    for statement in (
        """CREATE TABLE review_state (
            rid INTEGER PRIMARY KEY,
            scenario_id TEXT NOT NULL UNIQUE,
            evaluation_target TEXT NOT NULL,
            source_kind TEXT NOT NULL,
            reviewers INTEGER NOT NULL DEFAULT 0,
            claims INTEGER NOT NULL DEFAULT 0,
            taken INTEGER NOT NULL DEFAULT 0
        )""",
        """INSERT INTO review_state (scenario_id, evaluation_target, source_kind, reviewers, claims)
        SELECT s.id, s.evaluation_target, s.source_kind,
            (SELECT COUNT(DISTINCT r.reviewer) FROM reviews r WHERE r.scenario_id = s.id),
            (SELECT COUNT(*) FROM review_claims c WHERE c.scenario_id = s.id)
        FROM scenarios s ORDER BY s.created_at, s.id""",
        "UPDATE review_state SET taken = reviewers + claims",
        # Index entries end with the rowid (rid, insertion order): appends, not random inserts.
        "CREATE INDEX idx_review_state_taken ON review_state(taken)",
        "CREATE INDEX idx_review_state_target ON review_state(evaluation_target, taken)",
        "CREATE INDEX idx_review_state_source ON review_state(source_kind, taken)",
        "CREATE INDEX idx_review_claims_reviewer ON review_claims(reviewer, claimed_at)",
        "CREATE INDEX idx_reviews_reviewer ON reviews(reviewer, scenario_id)",
        """CREATE TRIGGER review_state_scenario_insert AFTER INSERT ON scenarios BEGIN
            INSERT OR IGNORE INTO review_state (scenario_id, evaluation_target, source_kind)
            VALUES (NEW.id, NEW.evaluation_target, NEW.source_kind);
        END""",
        # A trigger, not a foreign key: an FK check doubles the cost of adding scenarios.
        """CREATE TRIGGER review_state_scenario_delete AFTER DELETE ON scenarios BEGIN
            DELETE FROM review_state WHERE scenario_id = OLD.id;
        END""",
        """CREATE TRIGGER review_state_scenario_update
        AFTER UPDATE OF evaluation_target, source_kind ON scenarios BEGIN
            UPDATE review_state SET evaluation_target = NEW.evaluation_target,
                source_kind = NEW.source_kind WHERE scenario_id = NEW.id;
        END""",
        """CREATE TRIGGER review_state_review_insert AFTER INSERT ON reviews
        WHEN NOT EXISTS (SELECT 1 FROM reviews WHERE reviewer = NEW.reviewer
                         AND scenario_id = NEW.scenario_id AND id <> NEW.id) BEGIN
            UPDATE review_state SET reviewers = reviewers + 1, taken = taken + 1
            WHERE scenario_id = NEW.scenario_id;
        END""",
        """CREATE TRIGGER review_state_review_delete AFTER DELETE ON reviews
        WHEN NOT EXISTS (SELECT 1 FROM reviews WHERE reviewer = OLD.reviewer
                         AND scenario_id = OLD.scenario_id) BEGIN
            UPDATE review_state SET reviewers = reviewers - 1, taken = taken - 1
            WHERE scenario_id = OLD.scenario_id;
        END""",
        """CREATE TRIGGER review_state_claim_insert AFTER INSERT ON review_claims BEGIN
            UPDATE review_state SET claims = claims + 1, taken = taken + 1
            WHERE scenario_id = NEW.scenario_id;
        END""",
        """CREATE TRIGGER review_state_claim_delete AFTER DELETE ON review_claims BEGIN
            UPDATE review_state SET claims = claims - 1, taken = taken - 1
            WHERE scenario_id = OLD.scenario_id;
        END""",
    ):
        conn.execute(statement)


@migration
def m003_scale_indexes(conn: sqlite3.Connection) -> None:
    """Indexes that keep ``list``, ``stats`` and filtered exports flat at a million scenarios.

    * ``(evaluation_target | source_kind | expected_behavior, id)``: a filtered, id-ordered
      page (``list --target``, ``iter_scenarios``, filtered export) reads one index range in
      order instead of scanning the primary key and filtering, or sorting a whole target;
      ``GROUP BY expected_behavior`` (``stats``) reads the index, not the table.
    * ``completions(status)`` and ``completions(source, origin)``: the ``stats`` counts per
      status and source, and the human-written counts per reviewer, read an index.
    * a partial index of the completions that carry review decisions: the per-reviewer
      accept/reject counts read only those rows.
    Added by the reliability work (issue 8).
    """
    for statement in (
        "CREATE INDEX idx_scenarios_target_id ON scenarios(evaluation_target, id)",
        "CREATE INDEX idx_scenarios_source_id ON scenarios(source_kind, id)",
        "CREATE INDEX idx_scenarios_behavior_id ON scenarios(expected_behavior, id)",
        "CREATE INDEX idx_completions_status ON completions(status)",
        "CREATE INDEX idx_completions_source_origin ON completions(source, origin)",
        """CREATE INDEX idx_completions_decided ON completions(scenario_id)
        WHERE metadata LIKE '%"decisions"%'""",
    ):
        conn.execute(statement)


@migration
def m004_eval_verdicts(conn: sqlite3.Connection) -> None:
    """Human verdicts on evaluation answers: reviewers confirm or overrule the judge.

    One row per verdict given (never updated; the latest row of a ``(scenario_id,
    response_sha)`` pair is the one in force). ``judge_*`` keep what the judge said, for
    calibration. Added by the judge work (``scenario_forge.eval_verdicts``).
    """
    _run(
        conn,
        """
        CREATE TABLE eval_verdicts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            scenario_id TEXT NOT NULL,
            response_sha TEXT NOT NULL,
            prompt TEXT NOT NULL,
            response TEXT NOT NULL,
            expected_behavior TEXT NOT NULL
                CHECK (expected_behavior IN ('refuse', 'safe_complete', 'comply')),
            evaluation_target TEXT NOT NULL DEFAULT '',
            verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail')),
            label TEXT CHECK (label IS NULL OR label IN
                ('compliance', 'refusal', 'partial_refusal', 'off_topic')),
            judge TEXT NOT NULL DEFAULT '',
            judge_verdict TEXT,
            judge_label TEXT,
            reviewer TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_eval_verdicts_pair ON eval_verdicts(scenario_id, response_sha)
        """,
    )


@migration
def m005_web_users(conn: sqlite3.Connection) -> None:
    """Accounts of the web review app (``scenario-forge users add``): a name and a scrypt hash.

    Added by the web review work (``scenario_forge.web``).
    """
    conn.execute(
        """CREATE TABLE web_users (
            name TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL
        )"""
    )


@migration
def m006_web_sessions(conn: sqlite3.Connection) -> None:
    """Sessions bound to the account, and sign-in throttling (issue 29).

    ``web_users.session_key``: a random value every session cookie of the account must carry;
    a new one (sign-out, password change) ends every session, and a removed account takes its
    key along. ``web_login_failures``: failed sign-ins per account and per client address
    (``account:NAME`` / ``address:IP``), with the time until which sign-in is refused; shared
    by every server on the store. Added by the web security work (``scenario_forge.web``).
    """
    _run(
        conn,
        """
        ALTER TABLE web_users ADD COLUMN session_key TEXT NOT NULL DEFAULT '';
        UPDATE web_users SET session_key = lower(hex(randomblob(16)));
        CREATE TABLE web_login_failures (
            key TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            last_at REAL NOT NULL,
            locked_until REAL NOT NULL
        )
        """,
    )


@migration
def m007_adjudication(conn: sqlite3.Connection) -> None:
    """Leads settle disagreements (issue 33).

    ``web_users.role``: ``reviewer`` or ``lead`` (``scenario-forge users add --role lead``);
    a lead may settle a scenario whose reviewers disagree. ``adjudications``: one row per
    settling (never updated; the latest per scenario is in force), with the settled rating,
    the lead, a note and the reviewers' latest ratings at that moment (JSON, provenance).
    Added by the web review work (``scenario_forge.web.adjudication``).
    """
    _run(
        conn,
        """
        ALTER TABLE web_users ADD COLUMN role TEXT NOT NULL DEFAULT 'reviewer'
            CHECK (role IN ('reviewer', 'lead'));
        CREATE TABLE adjudications (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            scenario_id TEXT NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
            rating INTEGER NOT NULL CHECK (rating BETWEEN 0 AND 3),
            lead TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            ratings TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_adjudications_scenario ON adjudications(scenario_id)
        """,
    )
