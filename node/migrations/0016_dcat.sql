-- DCAT-AP_IT metadata of the datasets (Dati): what the Dati operators say of each dataset for
-- the open-data catalogue, as the JSON of `dati::dcat::MetadataForm` (identifier, title,
-- description, EU data-theme URIs, keywords, contact e-mail, EU frequency URI, temporal and
-- spatial coverage, AgID licence URI, open or internal). Publisher and rights holder are the
-- Province (name and IPA code from the configuration); `modified` is the dataset's last
-- change. A dataset without a row here is internal.
CREATE TABLE dataset_metadata (
    dataset    TEXT PRIMARY KEY REFERENCES datasets(name),
    open       INTEGER NOT NULL CHECK (open IN (0, 1)),
    metadata   TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
