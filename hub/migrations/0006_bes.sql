-- ISTAT's BES dei territori (the well-being indicators of the Provinces), one edition at a time:
-- importing an edition again replaces it whole, in one transaction (`db::bes::replace_edition`).
-- Territories are those of the edition's file, named as it names them; a Province is tied to the
-- registry by its historical code when its name is one of the registry's, and has no code
-- otherwise (the Sardinian Provinces abolished since, in the 2020 edition).
CREATE TABLE bes_editions (
    edition     INTEGER PRIMARY KEY,          -- ISTAT's edition, e.g. 2020
    source      TEXT NOT NULL,                -- file name of the indicators
    imported_at INTEGER NOT NULL
);

CREATE TABLE bes_indicators (
    id          INTEGER PRIMARY KEY,
    edition     INTEGER NOT NULL REFERENCES bes_editions(edition) ON DELETE CASCADE,
    code        TEXT NOT NULL,                -- ISTAT's code, e.g. 01SAL001 (P: provincial only)
    domain_code TEXT NOT NULL,                -- the code's first two digits, e.g. 01
    domain      TEXT NOT NULL,                -- e.g. Salute
    name        TEXT NOT NULL,
    unit        TEXT NOT NULL,
    source      TEXT NOT NULL,
    kind        TEXT,                         -- from the metadata: Bes, Proxy, Locale
    definition  TEXT,                         -- from the metadata
    note        TEXT,                         -- the file's NOTE column
    position    INTEGER NOT NULL,             -- order in the file
    UNIQUE (edition, code)
);

CREATE TABLE bes_territories (
    id       INTEGER PRIMARY KEY,
    edition  INTEGER NOT NULL REFERENCES bes_editions(edition) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('italia', 'ripartizione', 'regione', 'provincia')),
    name     TEXT NOT NULL,                   -- as the file writes it
    province TEXT,                            -- registry code (historical) of a Province, if mapped
    region   TEXT,                            -- the region of a Province or the region itself
    position INTEGER NOT NULL,                -- order in the file
    UNIQUE (edition, kind, name)
);
CREATE INDEX bes_territories_province ON bes_territories(province, edition);

-- One value per indicator, territory, sex and year present in the file; `value` is NULL where
-- the file says "...." (not available). Empty cells are not stored.
CREATE TABLE bes_values (
    indicator INTEGER NOT NULL REFERENCES bes_indicators(id) ON DELETE CASCADE,
    sex       TEXT NOT NULL CHECK (sex IN ('totale', 'maschi', 'femmine')),
    year      INTEGER NOT NULL,
    territory INTEGER NOT NULL REFERENCES bes_territories(id) ON DELETE CASCADE,
    value     REAL,
    PRIMARY KEY (indicator, sex, year, territory)
) WITHOUT ROWID;
-- A territory's profile reads all of its values.
CREATE INDEX bes_values_territory ON bes_values(territory, indicator);
