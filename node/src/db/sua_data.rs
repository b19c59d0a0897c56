//! SQL of SUA imports (bulk inserts), reports and the OCDS export.
