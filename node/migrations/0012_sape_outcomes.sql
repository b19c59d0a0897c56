-- SAPE: what the funder decided and what was paid, the proposals' documents, the lump sums
-- of work packages (lump-sum calls), and the Comuni's requests for support.
-- A proposal's outcome (score and threshold in hundredths of a point, the CUP once funded)
-- is one row beside it; the EU contribution obtained and received per partner is keyed by
-- the partner's place in the proposal (1, 2…: the `partner_no` of `sape_progetti`), as the
-- partners' rows are rewritten when the proposal is edited. Money is euro cents.

CREATE TABLE sape_outcomes (
    proposal_id INTEGER PRIMARY KEY REFERENCES sape_proposals(id) ON DELETE CASCADE,
    score INTEGER CHECK (score >= 0),
    threshold INTEGER CHECK (threshold >= 0),
    cup TEXT CHECK (cup IS NULL OR length(cup) = 15),
    updated_at INTEGER NOT NULL
);

CREATE TABLE sape_partner_amounts (
    proposal_id INTEGER NOT NULL REFERENCES sape_proposals(id) ON DELETE CASCADE,
    partner_no INTEGER NOT NULL CHECK (partner_no >= 1),
    obtained_cents INTEGER CHECK (obtained_cents >= 0),
    received_cents INTEGER CHECK (received_cents >= 0),
    PRIMARY KEY (proposal_id, partner_no)
) WITHOUT ROWID;

-- A Comune asks the SAPE for help on a call; the office accepts or declines with reasons.
-- Its audited lifecycle (`crate::lifecycle`) writes `sape_support_transitions`.
CREATE TABLE sape_support_requests (
    id INTEGER PRIMARY KEY,
    call_id INTEGER NOT NULL REFERENCES sape_calls(id) ON DELETE CASCADE,
    comune_code TEXT NOT NULL REFERENCES comuni(code),
    message TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'requested',
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX sape_support_requests_comune ON sape_support_requests (comune_code, call_id);
CREATE INDEX sape_support_requests_state ON sape_support_requests (state, created_at);

CREATE TABLE sape_support_transitions (
    id INTEGER PRIMARY KEY,
    request_id INTEGER NOT NULL REFERENCES sape_support_requests(id) ON DELETE CASCADE,
    from_state TEXT,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX sape_support_transitions_request ON sape_support_transitions (request_id, id);

-- The documents of a proposal (forms, letters of support, the grant agreement, reports),
-- kept through the node's attachment store (`crate::attachments`).
CREATE TABLE sape_documents (
    id INTEGER PRIMARY KEY,
    proposal_id INTEGER NOT NULL REFERENCES sape_proposals(id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX sape_documents_proposal ON sape_documents (proposal_id, id);

-- In a lump-sum call the grant is a fixed amount per work package: its EU contribution, euro
-- cents. Null in other calls.
ALTER TABLE sape_work_packages ADD COLUMN lump_sum_cents INTEGER CHECK (lump_sum_cents >= 0);
