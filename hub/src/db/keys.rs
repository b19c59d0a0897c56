//! The enrolment table: which keys may sign a Province's entries, and from/until which seq.
//!
//! Rows are added by `pico-hub enrol` (the out-of-band "protocollo di adesione") and by
//! accepted key-rotation entries; revocations only ever set or lower `revoked_from`, so old
//! entries stay verifiable with the key that signed them.

use pico_protocol::{KeyDirectory, KeyId, KeyRecord, ProvinceCode, PublicKey, Seq};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{DbError, corrupt};

/// [`KeyDirectory`] over the hub's database, for `verify_entry`.
#[derive(Debug, Clone, Copy)]
pub struct DbKeys<'c>(pub &'c Connection);

impl KeyDirectory for DbKeys<'_> {
    fn key(&self, kid: &KeyId) -> Option<KeyRecord> {
        match get(self.0, kid) {
            Ok(record) => record,
            Err(error) => {
                // The trait cannot carry the error: report it and treat the key as unknown,
                // which refuses the entry without storing anything.
                tracing::error!(%error, "key lookup failed");
                None
            }
        }
    }
}

/// The key with this id.
pub fn get(conn: &Connection, kid: &KeyId) -> Result<Option<KeyRecord>, DbError> {
    let row = conn
        .query_row(
            "SELECT province, public_key, valid_from, revoked_from FROM keys WHERE kid = ?1",
            [kid.as_str()],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, Option<i64>>(3)?,
                ))
            },
        )
        .optional()?;
    row.map(|(province, key, valid_from, revoked_from)| {
        let seq = |n: i64| Seq::new(n as u64).map_err(|e| corrupt("keys", e));
        Ok(KeyRecord {
            province: ProvinceCode::parse(&province).map_err(|e| corrupt("keys", e))?,
            key: key.parse().map_err(|e| corrupt("keys", e))?,
            valid_from: seq(valid_from)?,
            revoked_from: revoked_from.map(seq).transpose()?,
        })
    })
    .transpose()
}

/// Why an enrolment or revocation was refused.
#[derive(Debug, thiserror::Error)]
pub enum KeyAdminError {
    /// The code is not in the registry.
    #[error("la Provincia {0} non è nell'elenco ISTAT delle Province")]
    UnknownProvince(ProvinceCode),
    /// The key is already enrolled.
    #[error("la chiave {0} è già registrata")]
    AlreadyEnrolled(KeyId),
    /// No such key for this Province.
    #[error("la chiave {0} non è registrata per questa Provincia")]
    UnknownKey(KeyId),
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for KeyAdminError {
    fn from(e: rusqlite::Error) -> Self {
        KeyAdminError::Db(e.into())
    }
}

/// Enrols a Province's key. It may sign from the entry after the Province's current head (from
/// seq 1 for a first enrolment), so a key re-issued out of band never covers past entries.
pub fn enrol(
    conn: &Connection,
    province: ProvinceCode,
    key: &PublicKey,
) -> Result<KeyRecord, KeyAdminError> {
    if !super::registry::exists(conn, province)? {
        return Err(KeyAdminError::UnknownProvince(province));
    }
    let kid = key.key_id();
    if get(conn, &kid)?.is_some() {
        return Err(KeyAdminError::AlreadyEnrolled(kid));
    }
    let head = super::log::head(conn, province)?;
    let valid_from = head.seq + 1;
    conn.execute(
        "INSERT INTO keys (kid, province, public_key, valid_from, origin, added_at)
         VALUES (?1, ?2, ?3, ?4, 'enrolment', ?5)",
        params![
            kid.as_str(),
            province.as_str(),
            key.to_string(),
            valid_from as i64,
            super::now_unix()
        ],
    )?;
    Ok(get(conn, &kid)?.ok_or_else(|| corrupt("keys", "enrolled key vanished"))?)
}

/// Revokes a key from `from_seq` on (or from the next entry when not given); an earlier
/// revocation is never moved later.
pub fn revoke(
    conn: &Connection,
    province: ProvinceCode,
    kid: &KeyId,
    from_seq: Option<u64>,
    reason: &str,
) -> Result<u64, KeyAdminError> {
    let record = get(conn, kid)?.ok_or_else(|| KeyAdminError::UnknownKey(kid.clone()))?;
    if record.province != province {
        return Err(KeyAdminError::UnknownKey(kid.clone()));
    }
    let from = match from_seq {
        Some(seq) => seq.max(1),
        None => super::log::head(conn, province)?.seq + 1,
    };
    set_revoked_from(conn, kid, from, reason)?;
    Ok(from)
}

fn set_revoked_from(
    conn: &Connection,
    kid: &KeyId,
    from: u64,
    reason: &str,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE keys SET revoked_from = min(coalesce(revoked_from, ?2), ?2), reason = ?3
         WHERE kid = ?1",
        params![kid.as_str(), from as i64, reason],
    )?;
    Ok(())
}

/// Applies an accepted key rotation at `seq`: the new key signs from `seq + 1`, the key that
/// signed the rotation stops there.
pub fn apply_rotation(
    conn: &Connection,
    province: ProvinceCode,
    seq: Seq,
    signing_kid: &KeyId,
    new_key: &PublicKey,
) -> Result<(), DbError> {
    let from = seq.get() + 1;
    conn.execute(
        "INSERT INTO keys (kid, province, public_key, valid_from, origin, added_at)
         VALUES (?1, ?2, ?3, ?4, 'rotation', ?5)
         ON CONFLICT (kid) DO NOTHING",
        params![
            new_key.key_id().as_str(),
            province.as_str(),
            new_key.to_string(),
            from as i64,
            super::now_unix()
        ],
    )?;
    set_revoked_from(conn, signing_kid, from, "rotated")
}

/// Applies an accepted key revocation entry (the key must be the sender's).
pub fn apply_revocation(
    conn: &Connection,
    province: ProvinceCode,
    kid: &KeyId,
    from_seq: Seq,
    reason: &str,
) -> Result<bool, DbError> {
    match get(conn, kid)? {
        Some(record) if record.province == province => {
            set_revoked_from(conn, kid, from_seq.get(), reason)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// One enrolled key, for operators.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KeyRow {
    /// Key id.
    pub kid: String,
    /// Province code.
    pub province: String,
    /// Public key text (`ed25519:…`).
    pub public_key: String,
    /// First seq it may sign.
    pub valid_from: u64,
    /// First seq it may no longer sign.
    pub revoked_from: Option<u64>,
    /// `enrolment` or `rotation`.
    pub origin: String,
    /// When it was added (RFC 3339).
    pub added_at: String,
}

/// Every key, by Province then time.
pub fn list(conn: &Connection) -> Result<Vec<KeyRow>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT kid, province, public_key, valid_from, revoked_from, origin, added_at
         FROM keys ORDER BY province, valid_from, added_at",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(KeyRow {
            kid: row.get(0)?,
            province: row.get(1)?,
            public_key: row.get(2)?,
            valid_from: row.get::<_, i64>(3)? as u64,
            revoked_from: row.get::<_, Option<i64>>(4)?.map(|n| n as u64),
            origin: row.get(5)?,
            added_at: super::rfc3339(row.get(6)?),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
