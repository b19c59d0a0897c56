//! Signed request authentication: how a node proves to the hub which Province is calling on
//! requests that carry no entry (inbox pulls, joining and leaving networks).
//!
//! The node sends `Authorization: Pico-Signature <jws-compact>`, a JWS in the compact
//! serialisation (`protected.payload.signature`, RFC 7515 §7.1) with `alg: EdDSA` and
//! `typ: pico-request`, whose payload is the canonical JSON of [`RequestClaims`]: the method
//! and path of this very request, the Province, the signing time and a random nonce. The hub
//! checks it against the same key directory it verifies entries with, so no other credential
//! exists: the node's log key is its identity. `protocol/SPEC.md` §11.1–11.2 is the
//! normative text.
//!
//! Replay: the signature binds method and path but not the body or the query, and the
//! receiver keeps no record of nonces, so a captured header can be replayed for the same
//! method and path until it is `max_skew_secs` old. That is acceptable because the requests
//! it guards are read-only pulls (whose answer goes to whoever holds the header, over TLS) or
//! idempotent membership changes of the signing Province itself; anything that changes data
//! travels as a signed entry, which carries its own seq.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::RngCore;
use serde::{Deserialize, Serialize};

use crate::canonical;
use crate::error::EntryError;
use crate::ids::ProvinceCode;
use crate::jws::Jws;
use crate::keys::SecretKey;
use crate::limits::{CURRENT_VERSION, SUPPORTED_VERSIONS};
use crate::timestamp::Timestamp;
use crate::verify::KeyDirectory;

/// The JWS `typ` of a request signature.
pub const REQUEST_TYP: &str = "pico-request";

/// The HTTP authentication scheme: `Authorization: Pico-Signature <jws-compact>`.
pub const SCHEME: &str = "Pico-Signature";

/// The largest clock difference a receiver accepts between `iat` and its own time.
pub const MAX_SKEW_SECS: u64 = 300;

/// Largest `Authorization` value looked at; a real one is about 400 bytes.
pub const MAX_HEADER_BYTES: usize = 4096;

/// Nonce length bounds, in base64url characters (16 random bytes give 22).
const NONCE_CHARS: std::ops::RangeInclusive<usize> = 16..=64;

/// Longest signed path.
const MAX_PATH_CHARS: usize = 1024;

/// What a request signature states: the JWS payload, canonical JSON with exactly these members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestClaims {
    /// When the node signed the request.
    pub iat: Timestamp,
    /// HTTP method, upper case (`GET`, `PUT`, `DELETE`).
    pub method: String,
    /// At least 16 random base64url characters, so that two signatures differ even within
    /// the same second.
    pub nonce: String,
    /// The request path without query string, as sent (`/v1/federation/inbox`).
    pub path: String,
    /// The calling Province.
    pub province: ProvinceCode,
    /// Protocol version, `1`.
    pub v: u64,
}

/// Signing and verifying `Pico-Signature` request authentication.
#[derive(Debug, Clone, Copy)]
pub struct RequestAuth;

impl RequestAuth {
    /// Signs a request of `province` and returns the whole `Authorization` header value,
    /// `Pico-Signature <jws-compact>`. A query string in `path` is left out of what is signed.
    /// Sign each request afresh: the value is only accepted for [`MAX_SKEW_SECS`].
    pub fn sign(
        key: &SecretKey,
        province: ProvinceCode,
        method: &str,
        path: &str,
        now: Timestamp,
    ) -> String {
        let mut random = [0u8; 16];
        rand_core::OsRng.fill_bytes(&mut random);
        Self::sign_with_nonce(
            key,
            province,
            method,
            path,
            now,
            &URL_SAFE_NO_PAD.encode(random),
        )
    }

    /// [`RequestAuth::sign`] with a given nonce, for test vectors. Real requests use `sign`.
    pub fn sign_with_nonce(
        key: &SecretKey,
        province: ProvinceCode,
        method: &str,
        path: &str,
        now: Timestamp,
        nonce: &str,
    ) -> String {
        let claims = RequestClaims {
            iat: now,
            method: method.to_ascii_uppercase(),
            nonce: nonce.to_owned(),
            path: strip_query(path).to_owned(),
            province,
            v: CURRENT_VERSION,
        };
        // Strings, a timestamp and a small integer always serialise.
        let payload = canonical::to_vec(&claims).unwrap_or_default();
        let jws = Jws::sign(key, REQUEST_TYP, &payload);
        format!(
            "{SCHEME} {}.{}.{}",
            jws.protected, jws.payload, jws.signature
        )
    }

    /// Verifies an `Authorization` header value for a request `method path` received at
    /// `now`, and returns the Province that signed it.
    ///
    /// Checks, in order (first failure returned): size and scheme, compact form
    /// (`malformed_envelope`); protected header (`unsupported_algorithm`, `non_canonical`,
    /// `malformed_envelope` for a `typ` other than `pico-request`); version
    /// (`unsupported_version`); key known (`unknown_key`); signature (`bad_signature`); claims
    /// canonical (`non_canonical`) and well-formed (`malformed_envelope`); key belongs to the
    /// claimed Province (`unauthorised_key`) and is not revoked (`revoked_key`); method and
    /// path are those of this request, and `iat` is within `max_skew_secs` of `now`
    /// (`malformed_envelope`, with a message saying which).
    ///
    /// A key with any `revoked_from` cannot authenticate: requests have no seq, and a key
    /// that is rotated out or revoked must not keep speaking for its Province. A key's
    /// `valid_from` is not checked: every key the directory holds may sign its Province's
    /// next entry once it is there (an enrolment starts after the head, a rotation right
    /// after its own entry).
    pub fn verify(
        header_value: &str,
        keys: &(impl KeyDirectory + ?Sized),
        method: &str,
        path: &str,
        now: Timestamp,
        max_skew_secs: u64,
    ) -> Result<ProvinceCode, EntryError> {
        if header_value.len() > MAX_HEADER_BYTES {
            return Err(EntryError::Malformed(format!(
                "il valore di Authorization supera i {MAX_HEADER_BYTES} byte"
            )));
        }
        let compact = header_value
            .strip_prefix(SCHEME)
            .and_then(|rest| rest.strip_prefix(' '))
            .ok_or_else(|| {
                EntryError::Malformed(format!(
                    "il valore di Authorization deve essere `{SCHEME} <jws-compact>`"
                ))
            })?
            .trim();
        let jws = parse_compact(compact)?;
        let protected = jws.protected_header(REQUEST_TYP)?;
        let claims_bytes = jws.payload_bytes()?;
        let version = serde_json::from_slice::<serde_json::Value>(&claims_bytes)
            .ok()
            .and_then(|claims| claims.get("v").and_then(serde_json::Value::as_u64))
            .ok_or_else(|| {
                EntryError::Malformed(
                    "le dichiarazioni della richiesta non sono un oggetto JSON con un intero \"v\""
                        .into(),
                )
            })?;
        if !SUPPORTED_VERSIONS.contains(&version) {
            return Err(EntryError::UnsupportedVersion {
                found: version,
                supported: SUPPORTED_VERSIONS,
            });
        }
        let record = keys
            .key(&protected.kid)
            .ok_or_else(|| EntryError::UnknownKey(protected.kid.clone()))?;
        jws.verify_signature(&record.key)?;
        canonical::check(&claims_bytes).map_err(|source| EntryError::NonCanonical {
            part: "dichiarazioni della richiesta",
            source,
        })?;
        let claims: RequestClaims = serde_json::from_slice(&claims_bytes)
            .map_err(|e| EntryError::Malformed(format!("dichiarazioni della richiesta: {e}")))?;
        check_claims_form(&claims)?;
        if record.province != claims.province {
            return Err(EntryError::UnauthorisedKey {
                kid: protected.kid,
                sender: claims.province,
                // Requests have no seq; the key may sign no entry of that Province at all.
                seq: record.valid_from,
                reason: "la chiave appartiene a un'altra Provincia",
            });
        }
        if let Some(revoked_from) = record.revoked_from {
            return Err(EntryError::RevokedKey {
                kid: protected.kid,
                revoked_from,
                seq: revoked_from,
            });
        }
        let path = strip_query(path);
        if !claims.method.eq_ignore_ascii_case(method) || claims.path != path {
            return Err(EntryError::Malformed(format!(
                "la firma della richiesta vale per {} {}, non per {} {path}: firmare ogni richiesta per il suo metodo e il suo percorso",
                claims.method,
                claims.path,
                method.to_ascii_uppercase()
            )));
        }
        let skew = now.unix().abs_diff(claims.iat.unix());
        if skew > max_skew_secs {
            let when = if claims.iat < now {
                "prima dell'"
            } else {
                "dopo l'"
            };
            return Err(EntryError::Malformed(format!(
                "la firma della richiesta è fuori tempo: firmata alle {}, {skew} s {when}orologio di chi la riceve ({now}), oltre i {max_skew_secs} s ammessi; firmare ogni richiesta al momento di inviarla e controllare l'orologio del nodo (NTP)",
                claims.iat
            )));
        }
        Ok(claims.province)
    }
}

fn strip_query(path: &str) -> &str {
    path.split_once('?').map_or(path, |(path, _)| path)
}

/// Splits `protected.payload.signature`; each part is checked when decoded.
fn parse_compact(compact: &str) -> Result<Jws, EntryError> {
    let mut parts = compact.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(protected), Some(payload), Some(signature), None)
            if !protected.is_empty() && !payload.is_empty() && !signature.is_empty() =>
        {
            Ok(Jws {
                protected: protected.to_owned(),
                payload: payload.to_owned(),
                signature: signature.to_owned(),
            })
        }
        _ => Err(EntryError::Malformed(
            "la firma della richiesta deve essere un JWS compatto: protected.payload.signature"
                .into(),
        )),
    }
}

fn check_claims_form(claims: &RequestClaims) -> Result<(), EntryError> {
    if claims.method.is_empty() || !claims.method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(EntryError::Malformed(format!(
            "dichiarazioni della richiesta: method {:?} deve essere un metodo HTTP in maiuscolo",
            claims.method
        )));
    }
    if !NONCE_CHARS.contains(&claims.nonce.len())
        || !claims
            .nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(EntryError::Malformed(format!(
            "dichiarazioni della richiesta: nonce deve avere da {} a {} caratteri base64url",
            NONCE_CHARS.start(),
            NONCE_CHARS.end()
        )));
    }
    if !claims.path.starts_with('/')
        || claims.path.len() > MAX_PATH_CHARS
        || claims
            .path
            .bytes()
            .any(|b| b == b'?' || b == b'#' || !b.is_ascii_graphic())
    {
        return Err(EntryError::Malformed(
            "dichiarazioni della richiesta: path deve iniziare con '/', contenere solo ASCII stampabile e non avere query né frammento".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Hash32;
    use crate::ids::Seq;
    use crate::verify::KeyRecord;

    fn key(name: &str) -> SecretKey {
        SecretKey::from_seed(&Hash32::digest_of(&[b"pico test vector key ", name.as_bytes()]).0)
    }

    fn province(code: &str) -> ProvinceCode {
        ProvinceCode::parse(code).unwrap()
    }

    fn at(unix: i64) -> Timestamp {
        Timestamp::from_unix(unix).unwrap()
    }

    const NOW: i64 = 1_795_000_000;
    const INBOX: &str = "/v1/federation/inbox";

    fn directory() -> Vec<KeyRecord> {
        vec![
            KeyRecord {
                province: province("026"),
                key: key("treviso").public_key(),
                valid_from: Seq::new(1).unwrap(),
                revoked_from: None,
            },
            KeyRecord {
                province: province("017"),
                key: key("brescia").public_key(),
                valid_from: Seq::new(1).unwrap(),
                revoked_from: None,
            },
            KeyRecord {
                province: province("041"),
                key: key("pesaro").public_key(),
                valid_from: Seq::new(1).unwrap(),
                revoked_from: Some(Seq::new(4).unwrap()),
            },
        ]
    }

    fn signed(name: &str, code: &str, method: &str, path: &str, when: i64) -> String {
        RequestAuth::sign(&key(name), province(code), method, path, at(when))
    }

    fn verify(header: &str, method: &str, path: &str) -> Result<ProvinceCode, EntryError> {
        RequestAuth::verify(
            header,
            directory().as_slice(),
            method,
            path,
            at(NOW),
            MAX_SKEW_SECS,
        )
    }

    #[test]
    fn a_fresh_signature_names_its_province() {
        let header = signed("treviso", "026", "GET", INBOX, NOW - 10);
        assert!(header.starts_with("Pico-Signature "));
        assert_eq!(verify(&header, "GET", INBOX).unwrap(), province("026"));
        // The query is not signed: the same header serves any cursor.
        assert_eq!(
            verify(&header, "get", "/v1/federation/inbox?after=5&wait=30").unwrap(),
            province("026")
        );
        let with_query = signed("treviso", "026", "get", "/v1/federation/inbox?after=1", NOW);
        assert_eq!(verify(&with_query, "GET", INBOX).unwrap(), province("026"));
    }

    #[test]
    fn two_signatures_of_the_same_request_differ_by_their_nonce() {
        let a = signed("treviso", "026", "GET", INBOX, NOW);
        let b = signed("treviso", "026", "GET", INBOX, NOW);
        assert_ne!(a, b);
    }

    #[test]
    fn a_fixed_nonce_gives_fixed_bytes() {
        let header = RequestAuth::sign_with_nonce(
            &key("treviso"),
            province("026"),
            "GET",
            INBOX,
            at(NOW),
            "AAAAAAAAAAAAAAAAAAAAAA",
        );
        // Ed25519 is deterministic: this value is the vector in SPEC.md §11.1.
        assert_eq!(
            header,
            concat!(
                "Pico-Signature eyJhbGciOiJFZERTQSIsImtpZCI6Im5NY3M5cEFFTi1sS",
                "zZVdHFhVjAySGdxX1FURXl5UTE4NjJiSXltbUYyQVkiLCJ0eXAiOiJwaWNvLXJlcXVlc3QifQ.eyJpYXQiOiIyMDI2LTExLTE4VDExOjA2OjQwWiIsIm1ldGhvZCI6IkdFVCIsIm5vbmNlIjoiQUFBQUFBQUFBQUFBQUFBQUFBQUFBQSIsInBhdGgiOiIvdjEvZmVkZXJhdGlvbi9pbmJveCIsInByb3ZpbmNlIjoiMDI2IiwidiI6MX0.EAynVtPckeskglKR-zhBc1Wbw2fXt0REnQIR1ndQ4V51BHTwW9L6uC1XslJCMigaKQ-7Zf8V2ng0GtDY-cbcCg"
            )
        );
        let compact = header.strip_prefix("Pico-Signature ").unwrap();
        let payload = compact.split('.').nth(1).unwrap();
        let claims = URL_SAFE_NO_PAD.decode(payload).unwrap();
        assert_eq!(
            String::from_utf8(claims).unwrap(),
            r#"{"iat":"2026-11-18T11:06:40Z","method":"GET","nonce":"AAAAAAAAAAAAAAAAAAAAAA","path":"/v1/federation/inbox","province":"026","v":1}"#
        );
        assert_eq!(verify(&header, "GET", INBOX).unwrap(), province("026"));
    }

    #[test]
    fn a_tampered_signature_is_refused() {
        let header = signed("treviso", "026", "GET", INBOX, NOW);
        // Claim to be Brescia with Treviso's signature: the payload changed under it.
        let (scheme_and_protected, rest) = header.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let forged_claims = URL_SAFE_NO_PAD.encode(
            canonical::to_vec(&RequestClaims {
                iat: at(NOW),
                method: "GET".into(),
                nonce: "AAAAAAAAAAAAAAAAAAAAAA".into(),
                path: INBOX.into(),
                province: province("017"),
                v: 1,
            })
            .unwrap(),
        );
        let forged = format!("{scheme_and_protected}.{forged_claims}.{signature}");
        assert_eq!(verify(&forged, "GET", INBOX), Err(EntryError::BadSignature));

        let mut flipped = header.clone().into_bytes();
        let last = flipped.len() - 2;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(
            verify(&flipped, "GET", INBOX).unwrap_err().code(),
            "bad_signature"
        );
    }

    #[test]
    fn another_path_or_method_is_refused() {
        let header = signed("treviso", "026", "GET", INBOX, NOW);
        let wrong_path = verify(&header, "GET", "/v1/federation/networks/sua/members/026");
        let error = wrong_path.unwrap_err();
        assert_eq!(error.code(), "malformed_envelope");
        assert!(
            error
                .to_string()
                .contains("vale per GET /v1/federation/inbox")
        );
        let wrong_method = verify(&header, "DELETE", INBOX).unwrap_err();
        assert_eq!(wrong_method.code(), "malformed_envelope");
        assert!(wrong_method.to_string().contains("non per DELETE"));
    }

    #[test]
    fn a_stale_or_future_signature_is_refused_with_a_clear_message() {
        let stale = signed("treviso", "026", "GET", INBOX, NOW - 301);
        let error = verify(&stale, "GET", INBOX).unwrap_err();
        assert_eq!(error.code(), "malformed_envelope");
        assert!(error.to_string().contains("fuori tempo"), "{error}");
        assert!(error.to_string().contains("301 s prima"), "{error}");
        let ahead = signed("treviso", "026", "GET", INBOX, NOW + 400);
        assert!(
            verify(&ahead, "GET", INBOX)
                .unwrap_err()
                .to_string()
                .contains("400 s dopo")
        );
        // At the edge of the window it still passes.
        let edge = signed("treviso", "026", "GET", INBOX, NOW - 300);
        assert!(verify(&edge, "GET", INBOX).is_ok());
    }

    #[test]
    fn another_provinces_key_cannot_speak_for_it() {
        let header = signed("treviso", "017", "GET", INBOX, NOW);
        assert_eq!(
            verify(&header, "GET", INBOX).unwrap_err().code(),
            "unauthorised_key"
        );
    }

    #[test]
    fn unknown_and_revoked_keys_cannot_authenticate() {
        let header = signed("stranger", "026", "GET", INBOX, NOW);
        assert_eq!(
            verify(&header, "GET", INBOX).unwrap_err().code(),
            "unknown_key"
        );
        let header = signed("pesaro", "041", "GET", INBOX, NOW);
        assert_eq!(
            verify(&header, "GET", INBOX).unwrap_err().code(),
            "revoked_key"
        );
    }

    #[test]
    fn malformed_values_are_refused_before_any_key_lookup() {
        for bad in [
            "",
            "Bearer abc",
            "Pico-Signature ",
            "Pico-Signature a.b",
            "Pico-Signature a.b.c.d",
            "Pico-Signature ..",
            "Pico-Signature !!.??.**",
        ] {
            assert_eq!(
                verify(bad, "GET", INBOX).unwrap_err().code(),
                "malformed_envelope",
                "{bad:?}"
            );
        }
        let huge = format!("Pico-Signature {}", "a".repeat(MAX_HEADER_BYTES));
        assert_eq!(
            verify(&huge, "GET", INBOX).unwrap_err().code(),
            "malformed_envelope"
        );
    }

    #[test]
    fn an_entry_signature_is_not_a_request_signature() {
        // Same key and bytes, but `typ` pico-entry: a signed entry header is never a login.
        let claims = canonical::to_vec(&RequestClaims {
            iat: at(NOW),
            method: "GET".into(),
            nonce: "AAAAAAAAAAAAAAAAAAAAAA".into(),
            path: INBOX.into(),
            province: province("026"),
            v: 1,
        })
        .unwrap();
        let jws = Jws::sign(&key("treviso"), "pico-entry", &claims);
        let header = format!(
            "Pico-Signature {}.{}.{}",
            jws.protected, jws.payload, jws.signature
        );
        let error = verify(&header, "GET", INBOX).unwrap_err();
        assert_eq!(error.code(), "malformed_envelope");
        assert!(error.to_string().contains("pico-request"));
    }

    #[test]
    fn claims_must_be_canonical_and_complete() {
        let sign_raw = |claims: &[u8]| {
            let jws = Jws::sign(&key("treviso"), REQUEST_TYP, claims);
            format!(
                "Pico-Signature {}.{}.{}",
                jws.protected, jws.payload, jws.signature
            )
        };
        let spaced = br#"{"iat": "2026-11-18T11:06:40Z","method":"GET","nonce":"AAAAAAAAAAAAAAAAAAAAAA","path":"/v1/federation/inbox","province":"026","v":1}"#;
        assert_eq!(
            verify(&sign_raw(spaced), "GET", INBOX).unwrap_err().code(),
            "non_canonical"
        );
        let short_nonce = br#"{"iat":"2026-11-18T11:06:40Z","method":"GET","nonce":"abc","path":"/v1/federation/inbox","province":"026","v":1}"#;
        assert_eq!(
            verify(&sign_raw(short_nonce), "GET", INBOX)
                .unwrap_err()
                .code(),
            "malformed_envelope"
        );
        let extra = br#"{"extra":1,"iat":"2026-11-18T11:06:40Z","method":"GET","nonce":"AAAAAAAAAAAAAAAAAAAAAA","path":"/v1/federation/inbox","province":"026","v":1}"#;
        assert_eq!(
            verify(&sign_raw(extra), "GET", INBOX).unwrap_err().code(),
            "malformed_envelope"
        );
        let v3 = br#"{"iat":"2026-11-18T11:06:40Z","method":"GET","nonce":"AAAAAAAAAAAAAAAAAAAAAA","path":"/v1/federation/inbox","province":"026","v":3}"#;
        assert_eq!(
            verify(&sign_raw(v3), "GET", INBOX).unwrap_err().code(),
            "unsupported_version"
        );
    }
}
