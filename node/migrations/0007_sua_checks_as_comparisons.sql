
CREATE TABLE sua_procedures_new (
    id INTEGER PRIMARY KEY,
    comune_code TEXT REFERENCES comuni(code),
    buyer_cf TEXT NOT NULL DEFAULT '',
    buyer_name TEXT NOT NULL,
    aggregated INTEGER NOT NULL DEFAULT 0 CHECK (aggregated IN (0, 1)),
    object TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    contract_type TEXT NOT NULL
        CHECK (contract_type = 'works' OR contract_type = 'services' OR contract_type = 'supplies'),
    cpv_main TEXT NOT NULL,
    cpv_other TEXT NOT NULL DEFAULT '[]',
    estimated_cents INTEGER NOT NULL CHECK (estimated_cents >= 0),
    procedure_code INTEGER NOT NULL,
    procedure_label TEXT NOT NULL,
    award_criterion TEXT NOT NULL
        CHECK (award_criterion = 'lowest_price' OR award_criterion = 'best_value'
            OR award_criterion = 'fixed_price' OR award_criterion = 'unknown'),
    cup TEXT,
    funding_source TEXT NOT NULL DEFAULT '',
    pnrr INTEGER NOT NULL DEFAULT 0 CHECK (pnrr IN (0, 1)),
    rup_name TEXT NOT NULL DEFAULT '',
    rup_email TEXT NOT NULL DEFAULT '',
    desired_by TEXT,
    state TEXT NOT NULL
        CHECK (state = 'submitted' OR state = 'returned' OR state = 'withdrawn'
            OR state = 'received' OR state = 'in_preparation' OR state = 'published'
            OR state = 'bids_closed' OR state = 'evaluation' OR state = 'awarded'
            OR state = 'contract_signed' OR state = 'completed' OR state = 'cancelled'
            OR state = 'deserted'),
    return_reason TEXT,
    anac_gara TEXT,
    ocid TEXT,
    published_on TEXT,
    deadline_on TEXT,
    awarded_on TEXT,
    contract_signed_on TEXT,
    completed_on TEXT,
    requested_at INTEGER NOT NULL,
    accepted_at INTEGER,
    year INTEGER NOT NULL,
    source TEXT NOT NULL
        CHECK (source = 'web' OR source = 'api' OR source = 'import_ocds' OR source = 'import_csv'),
    import_batch INTEGER REFERENCES sua_import_batches(id),
    external_key TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK ((aggregated = 1) OR (comune_code IS NOT NULL) OR (source LIKE 'import_%'))
);
INSERT INTO sua_procedures_new SELECT * FROM sua_procedures;
DROP TABLE sua_procedures;
ALTER TABLE sua_procedures_new RENAME TO sua_procedures;
CREATE INDEX sua_procedures_comune_year ON sua_procedures(comune_code, year);
CREATE INDEX sua_procedures_state ON sua_procedures(state, id);
CREATE INDEX sua_procedures_year ON sua_procedures(year);
CREATE UNIQUE INDEX sua_procedures_external ON sua_procedures(source, external_key)
    WHERE external_key IS NOT NULL;
CREATE UNIQUE INDEX sua_procedures_ocid ON sua_procedures(ocid) WHERE ocid IS NOT NULL;

CREATE TABLE sua_lots_new (
    id INTEGER PRIMARY KEY,
    procedure_id INTEGER NOT NULL REFERENCES sua_procedures(id),
    lot_no INTEGER NOT NULL,
    cig TEXT UNIQUE,
    description TEXT NOT NULL,
    cpv TEXT,
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    status TEXT NOT NULL DEFAULT 'active'
        CHECK (status = 'active' OR status = 'awarded' OR status = 'deserted' OR status = 'cancelled'),
    bids_count INTEGER CHECK (bids_count >= 0),
    supplier_name TEXT,
    supplier_cf TEXT,
    award_cents INTEGER CHECK (award_cents >= 0),
    ribasso_milli INTEGER,
    awarded_on TEXT,
    contract_signed_on TEXT,
    UNIQUE (procedure_id, lot_no)
);
INSERT INTO sua_lots_new SELECT * FROM sua_lots;
DROP TABLE sua_lots;
ALTER TABLE sua_lots_new RENAME TO sua_lots;
