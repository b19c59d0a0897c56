//! What the Province node and the UPI hub share as *services*: HTTP conventions
//! (problem+json errors, pagination, limits), observability (tracing spans, Prometheus
//! metrics, health endpoints), SQLite plumbing (pool, migrations, backup) and the vendored
//! Bootstrap Italia assets. It knows nothing of the wire format (that is `pico-protocol`) and
//! nothing of either service's domain, so `node` and `hub` can both depend on it without
//! depending on each other.
