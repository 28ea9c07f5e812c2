"""The store's numbered migrations translated to PostgreSQL (one entry per SQLite migration).

Migration ``n`` here makes the same tables, columns, indexes and queue triggers as migration
``n`` of :mod:`scenario_forge.migrations`; the version lives in ``forge_schema.version``
instead of ``PRAGMA user_version``. Differences: ``BIGSERIAL`` for ``AUTOINCREMENT``,
PL/pgSQL trigger functions (a ``WHEN`` clause may not hold a subquery there), and
``COLLATE "C"`` on text so ordering matches SQLite's. A new SQLite migration needs its
PostgreSQL twin appended to :data:`PG_MIGRATIONS` (a test checks the counts match).
"""

from __future__ import annotations

from typing import Any

_T = 'TEXT COLLATE "C"'

M001 = f"""
CREATE TABLE scenarios (
    id {_T} PRIMARY KEY,
    evaluation_target {_T} NOT NULL,
    expected_behavior {_T} NOT NULL,
    group_id {_T} NOT NULL,
    source_kind {_T} NOT NULL,
    source_origin {_T} NOT NULL DEFAULT '',
    created_at {_T} NOT NULL,
    data {_T} NOT NULL
);
CREATE TABLE completions (
    id {_T} PRIMARY KEY,
    scenario_id {_T} NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
    text {_T} NOT NULL,
    source {_T} NOT NULL,
    origin {_T} NOT NULL DEFAULT '',
    status {_T} NOT NULL DEFAULT 'proposed',
    validated_by {_T} NOT NULL DEFAULT '[]',
    created_at {_T} NOT NULL,
    metadata {_T} NOT NULL DEFAULT '{{}}'
);
CREATE TABLE reviews (
    id BIGSERIAL PRIMARY KEY,
    scenario_id {_T} NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
    reviewer {_T} NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 0 AND 3),
    note {_T} NOT NULL DEFAULT '',
    created_at {_T} NOT NULL
);
CREATE TABLE review_claims (
    scenario_id {_T} NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
    reviewer {_T} NOT NULL,
    claimed_at {_T} NOT NULL,
    expires_at {_T} NOT NULL,
    PRIMARY KEY (scenario_id, reviewer)
);
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at {_T} NOT NULL,
    actor {_T} NOT NULL,
    action {_T} NOT NULL,
    entity {_T} NOT NULL,
    entity_id {_T} NOT NULL,
    details {_T} NOT NULL DEFAULT '{{}}'
);
CREATE INDEX idx_scenarios_target ON scenarios(evaluation_target);
CREATE INDEX idx_scenarios_group ON scenarios(group_id);
CREATE INDEX idx_scenarios_source ON scenarios(source_kind);
CREATE INDEX idx_completions_scenario ON completions(scenario_id);
CREATE INDEX idx_reviews_scenario ON reviews(scenario_id);
CREATE INDEX idx_review_claims_expires ON review_claims(expires_at);
CREATE INDEX idx_audit_entity ON audit_log(entity, entity_id)
"""

M002 = f"""
CREATE TABLE review_state (
    rid BIGSERIAL PRIMARY KEY,
    scenario_id {_T} NOT NULL UNIQUE,
    evaluation_target {_T} NOT NULL,
    source_kind {_T} NOT NULL,
    reviewers INTEGER NOT NULL DEFAULT 0,
    claims INTEGER NOT NULL DEFAULT 0,
    taken INTEGER NOT NULL DEFAULT 0
);
INSERT INTO review_state (scenario_id, evaluation_target, source_kind, reviewers, claims)
SELECT s.id, s.evaluation_target, s.source_kind,
    (SELECT COUNT(DISTINCT r.reviewer) FROM reviews r WHERE r.scenario_id = s.id),
    (SELECT COUNT(*) FROM review_claims c WHERE c.scenario_id = s.id)
FROM scenarios s ORDER BY s.created_at, s.id;
UPDATE review_state SET taken = reviewers + claims;
CREATE INDEX idx_review_state_taken ON review_state(taken, rid);
CREATE INDEX idx_review_state_target ON review_state(evaluation_target, taken, rid);
CREATE INDEX idx_review_state_source ON review_state(source_kind, taken, rid);
CREATE INDEX idx_review_claims_reviewer ON review_claims(reviewer, claimed_at);
CREATE INDEX idx_reviews_reviewer ON reviews(reviewer, scenario_id);
CREATE FUNCTION forge_rs_scenario() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO review_state (scenario_id, evaluation_target, source_kind)
        VALUES (NEW.id, NEW.evaluation_target, NEW.source_kind) ON CONFLICT DO NOTHING;
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM review_state WHERE scenario_id = OLD.id;
    ELSE
        UPDATE review_state SET evaluation_target = NEW.evaluation_target,
            source_kind = NEW.source_kind WHERE scenario_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER review_state_scenario AFTER INSERT OR DELETE
    OR UPDATE OF evaluation_target, source_kind ON scenarios
    FOR EACH ROW EXECUTE FUNCTION forge_rs_scenario();
CREATE FUNCTION forge_rs_review() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM reviews WHERE reviewer = NEW.reviewer
                       AND scenario_id = NEW.scenario_id AND id <> NEW.id) THEN
            UPDATE review_state SET reviewers = reviewers + 1, taken = taken + 1
            WHERE scenario_id = NEW.scenario_id;
        END IF;
    ELSE
        IF NOT EXISTS (SELECT 1 FROM reviews WHERE reviewer = OLD.reviewer
                       AND scenario_id = OLD.scenario_id) THEN
            UPDATE review_state SET reviewers = reviewers - 1, taken = taken - 1
            WHERE scenario_id = OLD.scenario_id;
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER review_state_review AFTER INSERT OR DELETE ON reviews
    FOR EACH ROW EXECUTE FUNCTION forge_rs_review();
CREATE FUNCTION forge_rs_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE review_state SET claims = claims + 1, taken = taken + 1
        WHERE scenario_id = NEW.scenario_id;
    ELSE
        UPDATE review_state SET claims = claims - 1, taken = taken - 1
        WHERE scenario_id = OLD.scenario_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER review_state_claim AFTER INSERT OR DELETE ON review_claims
    FOR EACH ROW EXECUTE FUNCTION forge_rs_claim()
"""

M003 = """
CREATE INDEX idx_scenarios_target_id ON scenarios(evaluation_target, id);
CREATE INDEX idx_scenarios_source_id ON scenarios(source_kind, id);
CREATE INDEX idx_scenarios_behavior_id ON scenarios(expected_behavior, id);
CREATE INDEX idx_completions_status ON completions(status);
CREATE INDEX idx_completions_source_origin ON completions(source, origin);
CREATE INDEX idx_completions_decided ON completions(scenario_id)
    WHERE metadata LIKE '%"decisions"%'
"""

M004 = f"""
CREATE TABLE eval_verdicts (
    id BIGSERIAL PRIMARY KEY,
    scenario_id {_T} NOT NULL,
    response_sha {_T} NOT NULL,
    prompt {_T} NOT NULL,
    response {_T} NOT NULL,
    expected_behavior {_T} NOT NULL
        CHECK (expected_behavior IN ('refuse', 'safe_complete', 'comply')),
    evaluation_target {_T} NOT NULL DEFAULT '',
    verdict {_T} NOT NULL CHECK (verdict IN ('pass', 'fail')),
    label {_T} CHECK (label IS NULL OR label IN
        ('compliance', 'refusal', 'partial_refusal', 'off_topic')),
    judge {_T} NOT NULL DEFAULT '',
    judge_verdict {_T},
    judge_label {_T},
    reviewer {_T} NOT NULL,
    note {_T} NOT NULL DEFAULT '',
    created_at {_T} NOT NULL
);
CREATE INDEX idx_eval_verdicts_pair ON eval_verdicts(scenario_id, response_sha)
"""

M005 = f"""
CREATE TABLE web_users (
    name {_T} PRIMARY KEY,
    password_hash {_T} NOT NULL,
    created_at {_T} NOT NULL
)
"""

M006 = f"""
ALTER TABLE web_users ADD COLUMN session_key {_T} NOT NULL DEFAULT '';
UPDATE web_users SET session_key = replace(gen_random_uuid()::text, '-', '');
CREATE TABLE web_login_failures (
    key {_T} PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_at DOUBLE PRECISION NOT NULL,
    locked_until DOUBLE PRECISION NOT NULL
)
"""

M007 = f"""
ALTER TABLE web_users ADD COLUMN role {_T} NOT NULL DEFAULT 'reviewer'
    CHECK (role IN ('reviewer', 'lead'));
CREATE TABLE adjudications (
    id BIGSERIAL PRIMARY KEY,
    scenario_id {_T} NOT NULL REFERENCES scenarios(id) ON DELETE CASCADE,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 0 AND 3),
    lead {_T} NOT NULL,
    note {_T} NOT NULL DEFAULT '',
    ratings {_T} NOT NULL DEFAULT '{{}}',
    created_at {_T} NOT NULL
);
CREATE INDEX idx_adjudications_scenario ON adjudications(scenario_id)
"""

PG_MIGRATIONS: list[str] = [M001, M002, M003, M004, M005, M006, M007]
"""Migration ``n`` (1-based) as one PostgreSQL script."""


def pg_current_version(conn: Any) -> int:
    """``forge_schema.version``, or 0 for a database without scenario-forge tables."""
    row = conn.execute("SELECT to_regclass('forge_schema') IS NOT NULL").fetchone()
    if not row[0]:
        return 0
    got = conn.execute("SELECT version FROM forge_schema").fetchone()
    return int(got[0]) if got else 0


def pg_user_tables(conn: Any) -> set[str]:
    """Tables of the current schema (to refuse a database that is not a store)."""
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    ).fetchall()
    return {str(r[0]) for r in rows}


def pg_apply_migrations(conn: Any, start: int) -> int:
    """Run migrations ``start + 1 ..`` inside the caller's transaction; returns the version."""
    conn.execute("CREATE TABLE IF NOT EXISTS forge_schema (version INTEGER NOT NULL)")
    for number, script in enumerate(PG_MIGRATIONS[start:], start=start + 1):
        for statement in _split(script):
            conn.execute(statement)
        conn.execute("DELETE FROM forge_schema")
        conn.execute("INSERT INTO forge_schema (version) VALUES (?)", (number,))
    return len(PG_MIGRATIONS)


def _split(script: str) -> list[str]:
    """Statements of a script; ``$$`` bodies keep their inner ``;``."""
    out: list[str] = []
    buf: list[str] = []
    in_body = False
    for part in script.split("$$"):
        if in_body:
            buf.append("$$" + part + "$$")
        else:
            pieces = part.split(";")
            buf.append(pieces[0])
            for piece in pieces[1:]:
                out.append("".join(buf))
                buf = [piece]
        in_body = not in_body
    out.append("".join(buf))
    return [s.strip() for s in out if s.strip()]
