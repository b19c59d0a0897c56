-- Formazione: the programme's training targets, which the hub signs and every node pulls
-- (GET /v1/formazione/targets). People to train per sector and per Province, in the order
-- people read them, and the yearly hours each employee should have.
CREATE TABLE formazione_targets (
    sector              TEXT PRIMARY KEY,   -- code of the formazione_aggregati dataset
    label               TEXT NOT NULL,
    position            INTEGER NOT NULL,
    people_per_province INTEGER NOT NULL CHECK (people_per_province >= 0)
) WITHOUT ROWID;

-- One row: the hours rule and the revision of the targets (one more at each change).
CREATE TABLE formazione_rules (
    id                    INTEGER PRIMARY KEY CHECK (id = 1),
    hours_per_person_year INTEGER NOT NULL CHECK (hours_per_person_year >= 0),
    revision              INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL   -- unix seconds
);

-- The programme's second phase: 5 people trained in Appalti, 3 in Europa, 3 in Innovazione
-- e Digitalizzazione and 4 in Politiche del personale per Province; at least 40 hours of
-- training per employee per year (directive of the Department of Public Function, January
-- 2025).
INSERT INTO formazione_targets (sector, label, position, people_per_province) VALUES
    ('appalti', 'Appalti', 1, 5),
    ('europa', 'Europa', 2, 3),
    ('innovazione', 'Innovazione e Digitalizzazione', 3, 3),
    ('personale', 'Politiche del personale', 4, 4);
INSERT INTO formazione_rules (id, hours_per_person_year, revision, updated_at)
VALUES (1, 40, 1, CAST(strftime('%s', 'now') AS INTEGER));
