-- SIT (Servizi Innovativi Territoriali): the catalogue of services the Province offers its
-- Comuni with every version kept, the Comuni's subscriptions with their audited lifecycle,
-- the requests made inside a subscription (Help Desk requests, so one SLA clock measures
-- them), and each Comune's digital picture (national platforms, PNRR measures).
-- Dates are `YYYY-MM-DD` text, instants Unix seconds, money euro cents.

CREATE TABLE sit_services (
    id INTEGER PRIMARY KEY,
    -- The stable name of its URLs (`/sit/servizi/{code}`, the RDF's IRIs).
    code TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL CHECK (version >= 1),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    -- Subject matter of public services (schema.gov.it vocabulary, 1–15).
    theme INTEGER NOT NULL CHECK (theme BETWEEN 1 AND 15),
    -- Channel codes separated by spaces, in the catalogue's order.
    channels TEXT NOT NULL,
    audience TEXT NOT NULL CHECK (audience = 'all' OR audience = 'under_threshold'),
    population_threshold INTEGER CHECK (population_threshold > 0),
    conditions TEXT NOT NULL,
    cost_model TEXT NOT NULL CHECK (cost_model = 'free' OR cost_model = 'fixed' OR cost_model = 'per_inhabitant'),
    -- A year's fee (fixed) or a year's fee per inhabitant, in cents; 0 when free.
    fee_cents INTEGER NOT NULL CHECK (fee_cents >= 0),
    first_answer_hours INTEGER NOT NULL CHECK (first_answer_hours > 0),
    resolution_hours INTEGER NOT NULL CHECK (resolution_hours > 0),
    -- Availability promised, in hundredths of a percent (99,5 % = 9950).
    availability_bp INTEGER NOT NULL CHECK (availability_bp BETWEEN 0 AND 10000),
    contact_office TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    -- One document a line: `title | https://…`.
    documents TEXT NOT NULL,
    inputs TEXT NOT NULL,
    outputs TEXT NOT NULL,
    publiccode_url TEXT NOT NULL,
    withdrawn_at INTEGER,
    withdrawn_reason TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Every version of every service as it was written (the current one included), as JSON of
-- `sit::db::ServiceRecord`: a change never loses what was promised before.
CREATE TABLE sit_service_versions (
    service_id INTEGER NOT NULL REFERENCES sit_services(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    record TEXT NOT NULL,
    note TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (service_id, version)
) WITHOUT ROWID;

CREATE TABLE sit_subscriptions (
    id INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES sit_services(id),
    comune_code TEXT NOT NULL REFERENCES comuni(code),
    state TEXT NOT NULL DEFAULT 'requested',
    note TEXT NOT NULL,
    agreement_ref TEXT NOT NULL DEFAULT '',
    start_date TEXT,
    requested_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- One open subscription (requested, active or suspended) per Comune and service.
CREATE UNIQUE INDEX sit_subscriptions_open ON sit_subscriptions (comune_code, service_id)
    WHERE state = 'requested' OR state = 'active' OR state = 'suspended';
CREATE INDEX sit_subscriptions_service ON sit_subscriptions (service_id, state);

-- The audited lifecycle of each subscription (`crate::lifecycle`).
CREATE TABLE sit_subscription_transitions (
    id INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES sit_subscriptions(id) ON DELETE CASCADE,
    from_state TEXT,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX sit_subscription_transitions_subscription ON sit_subscription_transitions (subscription_id, id);

-- A request inside a subscription is a Help Desk request: its clock (first answer,
-- resolution) is the Help Desk's, measured against the service's promised levels.
CREATE TABLE sit_requests (
    request_id INTEGER PRIMARY KEY REFERENCES helpdesk_requests(id),
    subscription_id INTEGER NOT NULL REFERENCES sit_subscriptions(id),
    kind TEXT NOT NULL CHECK (kind = 'activation' OR kind = 'intervention')
);
CREATE INDEX sit_requests_subscription ON sit_requests (subscription_id, request_id);

-- Each Comune's digital picture: the national platforms it uses and since when.
CREATE TABLE sit_platforms (
    comune_code TEXT NOT NULL REFERENCES comuni(code),
    platform TEXT NOT NULL,
    since TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (comune_code, platform)
) WITHOUT ROWID;

-- The PNRR "PA digitale 2026" measures a Comune applied for and obtained.
CREATE TABLE sit_pnrr (
    comune_code TEXT NOT NULL REFERENCES comuni(code),
    measure TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status = 'applied' OR status = 'obtained'),
    amount_cents INTEGER CHECK (amount_cents >= 0),
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (comune_code, measure)
) WITHOUT ROWID;
