//! The national `appalti` dataset: one row per lot of every public SUA procedure, derived
//! from the SUA tables and federated through the Dati module when the Province enables it.
//!
//! Every operation that changes a procedure calls [`refresh_procedures`] in its own
//! transaction, so the dataset (and, when federated, its signed delta) never disagrees with
//! the procedures.

use rusqlite::Connection;

use crate::error::AppError;
use crate::federation::Signer;

/// Brings the `appalti` rows of `procedure_ids` in line with the SUA tables, publishing the
/// change when the dataset is federated. Call it inside the transaction that changed them.
pub fn refresh_procedures(
    tx: &Connection,
    signer: &Signer,
    procedure_ids: &[i64],
) -> Result<(), AppError> {
    // Being written by the national-dataset work (issue 6); the workflow already calls it.
    let _unused = (tx, signer, procedure_ids);
    Ok(())
}
