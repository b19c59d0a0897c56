-- SAPE (Servizio Associato Politiche Europee): EU funding calls, their deadlines and full-text
-- index, the Comuni that follow a call or that the Province flags it to, the Comuni's
-- calendar feeds, and proposals with partners, budgets and work packages.
-- Dates are `YYYY-MM-DD` text, instants Unix seconds, money euro cents, person-months and
-- days hundredths. A call's status is never stored: it is derived from its dates when read.

CREATE TABLE sape_calls (
    id INTEGER PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    call_identifier TEXT NOT NULL,
    title TEXT NOT NULL,
    programme TEXT NOT NULL,
    management TEXT NOT NULL CHECK (management = 'direct' OR management = 'indirect'),
    type_of_action TEXT NOT NULL,
    keywords TEXT NOT NULL,
    deadline_model TEXT NOT NULL CHECK (deadline_model = 'single_stage' OR deadline_model = 'two_stage'
        OR deadline_model = 'multiple_cutoff' OR deadline_model = 'permanent'),
    opening_date TEXT,
    -- The last day a new application can be submitted, kept with `sape_call_deadlines` (the
    -- only deadline, the first stage of a two-stage call, the last cut-off; none for a
    -- permanent call) so the status filter is one comparison.
    closing_date TEXT,
    url TEXT NOT NULL,
    budget_cents INTEGER,
    expected_grants INTEGER,
    min_contribution_cents INTEGER,
    max_contribution_cents INTEGER,
    funding_rate INTEGER CHECK (funding_rate BETWEEN 0 AND 100),
    source TEXT NOT NULL CHECK (source = 'manual' OR source = 'csv' OR source = 'json'),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX sape_calls_programme ON sape_calls (programme, closing_date);
CREATE INDEX sape_calls_closing_date ON sape_calls (closing_date);

-- One row per deadline: the only one (single stage), first and second stage (two-stage), each
-- cut-off (multiple cut-off); none for a permanent call.
CREATE TABLE sape_call_deadlines (
    call_id INTEGER NOT NULL REFERENCES sape_calls(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    deadline TEXT NOT NULL,
    stage TEXT NOT NULL CHECK (stage = 'single' OR stage = 'first' OR stage = 'second' OR stage = 'cutoff'),
    PRIMARY KEY (call_id, ordinal)
) WITHOUT ROWID;
CREATE INDEX sape_call_deadlines_deadline ON sape_call_deadlines (deadline, call_id);

-- Full text over title, keywords, programme (code and label) and identifiers; its rowid is
-- the call's id. Written by `sape::db` with every call.
CREATE VIRTUAL TABLE sape_calls_fts USING fts5(
    title, keywords, programme, identifier,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE sape_follows (
    call_id INTEGER NOT NULL REFERENCES sape_calls(id) ON DELETE CASCADE,
    comune_code TEXT NOT NULL REFERENCES comuni(code),
    followed_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (comune_code, call_id)
) WITHOUT ROWID;

CREATE TABLE sape_flags (
    call_id INTEGER NOT NULL REFERENCES sape_calls(id) ON DELETE CASCADE,
    comune_code TEXT NOT NULL REFERENCES comuni(code),
    note TEXT NOT NULL,
    flagged_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (comune_code, call_id)
) WITHOUT ROWID;
CREATE INDEX sape_flags_call ON sape_flags (call_id);

-- A Comune's calendar feed: only the SHA-256 of its secret token is kept; regenerating
-- replaces it, so the old address stops working.
CREATE TABLE sape_feeds (
    comune_code TEXT PRIMARY KEY REFERENCES comuni(code),
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE sape_proposals (
    id INTEGER PRIMARY KEY,
    call_id INTEGER NOT NULL REFERENCES sape_calls(id),
    title TEXT NOT NULL,
    acronym TEXT NOT NULL,
    province_role TEXT NOT NULL CHECK (province_role = 'coordinator' OR province_role = 'partner'
        OR province_role = 'support'),
    state TEXT NOT NULL DEFAULT 'idea',
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX sape_proposals_call ON sape_proposals (call_id);

-- The audited lifecycle of each proposal (`crate::lifecycle`): one row per move, the first
-- one (no `from_state`) its creation.
CREATE TABLE sape_transitions (
    id INTEGER PRIMARY KEY,
    proposal_id INTEGER NOT NULL REFERENCES sape_proposals(id) ON DELETE CASCADE,
    from_state TEXT,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX sape_transitions_proposal ON sape_transitions (proposal_id, id);

CREATE TABLE sape_proposal_comuni (
    proposal_id INTEGER NOT NULL REFERENCES sape_proposals(id) ON DELETE CASCADE,
    comune_code TEXT NOT NULL REFERENCES comuni(code),
    PRIMARY KEY (proposal_id, comune_code)
) WITHOUT ROWID;
CREATE INDEX sape_proposal_comuni_comune ON sape_proposal_comuni (comune_code, proposal_id);

-- Partners with their budget inputs; every total is computed from these when read.
CREATE TABLE sape_partners (
    id INTEGER PRIMARY KEY,
    proposal_id INTEGER NOT NULL REFERENCES sape_proposals(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    pic TEXT,
    role TEXT NOT NULL CHECK (role = 'coordinator' OR role = 'beneficiary' OR role = 'affiliated_entity'
        OR role = 'associated_partner'),
    comune_code TEXT REFERENCES comuni(code),
    personnel_unit TEXT NOT NULL CHECK (personnel_unit = 'month' OR personnel_unit = 'day'),
    personnel_quantity INTEGER NOT NULL CHECK (personnel_quantity >= 0),
    personnel_rate_cents INTEGER NOT NULL CHECK (personnel_rate_cents >= 0),
    subcontracting_cents INTEGER NOT NULL CHECK (subcontracting_cents >= 0),
    travel_cents INTEGER NOT NULL CHECK (travel_cents >= 0),
    equipment_cents INTEGER NOT NULL CHECK (equipment_cents >= 0),
    other_goods_cents INTEGER NOT NULL CHECK (other_goods_cents >= 0),
    other_costs_cents INTEGER NOT NULL CHECK (other_costs_cents >= 0),
    funding_rate INTEGER NOT NULL CHECK (funding_rate BETWEEN 0 AND 100)
);
CREATE INDEX sape_partners_proposal ON sape_partners (proposal_id, id);

CREATE TABLE sape_work_packages (
    proposal_id INTEGER NOT NULL REFERENCES sape_proposals(id) ON DELETE CASCADE,
    number INTEGER NOT NULL CHECK (number >= 1),
    title TEXT NOT NULL,
    lead TEXT NOT NULL,
    start_month INTEGER NOT NULL CHECK (start_month >= 1),
    end_month INTEGER NOT NULL CHECK (end_month >= start_month),
    PRIMARY KEY (proposal_id, number)
) WITHOUT ROWID;
