-- The DCAT-AP_IT metadata each Province sends for the datasets it federates (`dataset_metadata`
-- entries, protocol version 2): the latest per (Province, dataset), as its canonical JSON body,
-- with the entry that carried it. The aggregated catalogue lists the open ones of datasets the
-- Province still contributes to; a withdrawal (SPEC §8.1) deletes the Province's row.
CREATE TABLE dataset_metadata (
    province   TEXT NOT NULL,
    dataset    TEXT NOT NULL,
    open       INTEGER NOT NULL CHECK (open IN (0, 1)),
    metadata   TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    entry_hash BLOB NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (province, dataset)
) WITHOUT ROWID;
-- The catalogue's pages walk the open ones in (province, dataset) order.
CREATE INDEX dataset_metadata_open ON dataset_metadata(province, dataset) WHERE open = 1;
