
CREATE TABLE sua_conventions (
    id INTEGER PRIMARY KEY,
    comune_code TEXT NOT NULL REFERENCES comuni(code),
    scope TEXT NOT NULL CHECK (scope IN ('goods_services', 'works', 'all')),
    valid_from TEXT NOT NULL,
    valid_until TEXT,
    document_ref TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX sua_conventions_comune ON sua_conventions(comune_code, valid_from);

CREATE TABLE sua_procedures (
    id INTEGER PRIMARY KEY,
    comune_code TEXT REFERENCES comuni(code),
    buyer_cf TEXT NOT NULL DEFAULT '',
    buyer_name TEXT NOT NULL,
    aggregated INTEGER NOT NULL DEFAULT 0 CHECK (aggregated IN (0, 1)),
    object TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    contract_type TEXT NOT NULL CHECK (contract_type IN ('works', 'services', 'supplies')),
    cpv_main TEXT NOT NULL,
    cpv_other TEXT NOT NULL DEFAULT '[]',
    estimated_cents INTEGER NOT NULL CHECK (estimated_cents >= 0),
    procedure_code INTEGER NOT NULL,
    procedure_label TEXT NOT NULL,
    award_criterion TEXT NOT NULL CHECK (award_criterion IN ('lowest_price', 'best_value', 'fixed_price', 'unknown')),
    cup TEXT,
    funding_source TEXT NOT NULL DEFAULT '',
    pnrr INTEGER NOT NULL DEFAULT 0 CHECK (pnrr IN (0, 1)),
    rup_name TEXT NOT NULL DEFAULT '',
    rup_email TEXT NOT NULL DEFAULT '',
    desired_by TEXT,
    state TEXT NOT NULL CHECK (state IN ('submitted', 'returned', 'withdrawn', 'received',
        'in_preparation', 'published', 'bids_closed', 'evaluation', 'awarded',
        'contract_signed', 'completed', 'cancelled', 'deserted')),
    return_reason TEXT,
    anac_gara TEXT,
    ocid TEXT UNIQUE,
    published_on TEXT,
    deadline_on TEXT,
    awarded_on TEXT,
    contract_signed_on TEXT,
    completed_on TEXT,
    requested_at INTEGER NOT NULL,
    accepted_at INTEGER,
    year INTEGER NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('web', 'api', 'import_ocds', 'import_csv')),
    import_batch INTEGER REFERENCES sua_import_batches(id),
    external_key TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((aggregated = 1) OR (comune_code IS NOT NULL) OR (source LIKE 'import_%'))
);
CREATE INDEX sua_procedures_comune_year ON sua_procedures(comune_code, year);
CREATE INDEX sua_procedures_state ON sua_procedures(state, id);
CREATE INDEX sua_procedures_year ON sua_procedures(year);
CREATE UNIQUE INDEX sua_procedures_external ON sua_procedures(source, external_key)
    WHERE external_key IS NOT NULL;

CREATE TABLE sua_participants (
    procedure_id INTEGER NOT NULL REFERENCES sua_procedures(id),
    comune_code TEXT NOT NULL REFERENCES comuni(code),
    share_cents INTEGER NOT NULL CHECK (share_cents >= 0),
    PRIMARY KEY (procedure_id, comune_code)
) WITHOUT ROWID;
CREATE INDEX sua_participants_comune ON sua_participants(comune_code, procedure_id);

CREATE TABLE sua_lots (
    id INTEGER PRIMARY KEY,
    procedure_id INTEGER NOT NULL REFERENCES sua_procedures(id),
    lot_no INTEGER NOT NULL,
    cig TEXT UNIQUE,
    description TEXT NOT NULL,
    cpv TEXT,
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'awarded', 'deserted', 'cancelled')),
    bids_count INTEGER CHECK (bids_count >= 0),
    supplier_name TEXT,
    supplier_cf TEXT,
    award_cents INTEGER CHECK (award_cents >= 0),
    ribasso_milli INTEGER,
    awarded_on TEXT,
    contract_signed_on TEXT,
    UNIQUE (procedure_id, lot_no)
);

CREATE TABLE sua_transitions (
    id INTEGER PRIMARY KEY,
    procedure_id INTEGER NOT NULL REFERENCES sua_procedures(id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX sua_transitions_procedure ON sua_transitions(procedure_id, id);
CREATE TRIGGER sua_transitions_no_update BEFORE UPDATE ON sua_transitions
BEGIN SELECT RAISE(ABORT, 'sua_transitions is append-only'); END;
CREATE TRIGGER sua_transitions_no_delete BEFORE DELETE ON sua_transitions
BEGIN SELECT RAISE(ABORT, 'sua_transitions is append-only'); END;

CREATE TABLE sua_attachments (
    id INTEGER PRIMARY KEY,
    procedure_id INTEGER NOT NULL REFERENCES sua_procedures(id),
    filename TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX sua_attachments_procedure ON sua_attachments(procedure_id, id);

CREATE TABLE sua_import_batches (
    id INTEGER PRIMARY KEY,
    format TEXT NOT NULL CHECK (format IN ('ocds', 'csv')),
    filename TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    imported INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    report TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
