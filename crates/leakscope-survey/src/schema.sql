-- leakscope survey results: one schema for SQLite and PostgreSQL.
-- Integers are BIGINT, flags are 0/1 BIGINT, lists are ';'-joined TEXT, times
-- are RFC 3339 TEXT (queue times: unix milliseconds). Documented in docs/survey.md.

CREATE TABLE IF NOT EXISTS surveys (
    name          TEXT PRIMARY KEY,
    list          TEXT NOT NULL,             -- the site list it was created from
    created       TEXT NOT NULL,
    settings      TEXT NOT NULL,             -- JSON: the scan settings every worker applies
    list_columns  TEXT NOT NULL,             -- JSON array: the list's own column names
    browser       TEXT NOT NULL DEFAULT '',  -- browser of the last worker that started
    tool_version  TEXT NOT NULL
);

-- One row per site of the list: the work queue and the per-site summary.
CREATE TABLE IF NOT EXISTS sites (
    survey        TEXT NOT NULL,
    id            BIGINT NOT NULL,           -- position in the list, from 1
    url           TEXT NOT NULL,
    domain        TEXT NOT NULL,
    category      TEXT,                      -- given by the list, else inferred by the scan
    status        TEXT NOT NULL DEFAULT 'pending',  -- pending, running, done, unreachable, error
    attempts      BIGINT NOT NULL DEFAULT 0,
    not_before    BIGINT NOT NULL DEFAULT 0, -- unix ms: earliest next attempt (backoff)
    lease_owner   TEXT,                      -- worker holding it: host:pid
    lease_token   TEXT,                      -- this lease; a finished scan must still hold it
    lease_until   BIGINT,                    -- unix ms: the lease expires unless renewed
    started       TEXT,
    finished      TEXT,
    duration_ms   BIGINT,
    worker        TEXT,                      -- worker that finished it
    evidence      TEXT,                      -- the site's evidence folder
    failure_kind  TEXT,                      -- dns, tls, refused, connection, timeout, http, redirect, crash, budget, scanner
    failure_message TEXT,
    requests      BIGINT NOT NULL DEFAULT 0,
    vendors       TEXT NOT NULL DEFAULT '',
    meta_pixel    BIGINT NOT NULL DEFAULT 0,
    findings      BIGINT NOT NULL DEFAULT 0,
    max_severity  TEXT,
    health_with_identity  BIGINT NOT NULL DEFAULT 0,
    tracking_after_reject BIGINT NOT NULL DEFAULT 0,
    completions   BIGINT NOT NULL DEFAULT 0, -- times results were stored: 1 for every finished site
    PRIMARY KEY (survey, id)
);
CREATE INDEX IF NOT EXISTS sites_queue ON sites (survey, status, not_before);

-- The list's own columns (organisation, state, category…), one row per cell.
CREATE TABLE IF NOT EXISTS site_columns (
    survey   TEXT NOT NULL,
    site_id  BIGINT NOT NULL,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (survey, site_id, name)
);

-- One row per run: a site loaded in one consent state, in a fresh context.
CREATE TABLE IF NOT EXISTS runs (
    survey   TEXT NOT NULL,
    site_id  BIGINT NOT NULL,
    name     TEXT NOT NULL,
    consent  TEXT NOT NULL,                  -- none, rejected, accepted, gpc
    status   TEXT NOT NULL,                  -- loaded, not_loaded
    failure_kind    TEXT,
    failure_message TEXT,
    requests BIGINT NOT NULL DEFAULT 0,
    consent_note TEXT,
    PRIMARY KEY (survey, site_id, name)
);

-- Every decoded tracker event.
CREATE TABLE IF NOT EXISTS events (
    survey   TEXT NOT NULL,
    site_id  BIGINT NOT NULL,
    seq      BIGINT NOT NULL,
    run      TEXT NOT NULL,
    vendor   TEXT NOT NULL,
    organisation TEXT NOT NULL,
    event    TEXT NOT NULL,
    account_id   TEXT,
    page_url     TEXT,
    request_url  TEXT NOT NULL,              -- secrets redacted as in the evidence
    method   TEXT NOT NULL,
    consent  TEXT,
    identifiers TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (survey, site_id, seq)
);

-- Every finding (health data with an identity, tracking after refusal…).
CREATE TABLE IF NOT EXISTS findings (
    survey   TEXT NOT NULL,
    site_id  BIGINT NOT NULL,
    id       TEXT NOT NULL,                  -- stable finding id
    rule     TEXT NOT NULL,
    severity TEXT NOT NULL,
    vendor   TEXT NOT NULL,
    organisation TEXT NOT NULL,
    event    TEXT NOT NULL,
    page_url TEXT,
    health_categories TEXT NOT NULL DEFAULT '',
    health_terms TEXT NOT NULL DEFAULT '',
    identifiers  TEXT NOT NULL DEFAULT '',
    run      TEXT,
    explanation TEXT NOT NULL,
    PRIMARY KEY (survey, site_id, id)
);

-- The health categories of each finding, one row each (for per-category questions).
CREATE TABLE IF NOT EXISTS finding_categories (
    survey     TEXT NOT NULL,
    site_id    BIGINT NOT NULL,
    finding_id TEXT NOT NULL,
    category   TEXT NOT NULL,
    PRIMARY KEY (survey, site_id, finding_id, category)
);
