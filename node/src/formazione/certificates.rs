//! Certificates of attendance: the verification code, the signed data and the PDF.
//!
//! A certificate's data is a small canonical JSON object (RFC 8785 rules, through
//! `pico_protocol::canonical`) signed with the node's Ed25519 key, the key that signs its log
//! entries. The node keeps the exact bytes it signed: they are what the PDF carries (printed
//! and in its document information) and what the public API returns, so a verifier checks
//! the signature over the bytes it received and never over a re-serialisation. The
//! verification code is 80 random bits in RFC 4648 base32, grouped by four (`K7QM-2XRA-…`):
//! unguessable, short enough to type, and without 0, 1 or 8, so a misread digit is mapped
//! back to its letter.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use rand_core::{OsRng, RngCore};
use rusqlite::{Connection, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::Identity;
use crate::db::comuni::Province;
use crate::db::{self, audit};
use crate::error::AppError;
use crate::formazione::EnrolmentState;
use crate::formazione::db::{self as store, CertificateRow, EnrolmentRow};
use crate::formazione::ops::decimal_hours;
use crate::formazione::policy::{self, Action};
use crate::state::AppState;

/// The `type` of the signed data, versioned so that a later layout can be told apart.
pub const DATA_TYPE: &str = "pico.formazione.attestato/1";

/// The base32 alphabet of RFC 4648.
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A fresh verification code: 10 random bytes as 16 base32 characters in four groups.
pub fn new_code() -> String {
    let mut bytes = [0u8; 10];
    OsRng.fill_bytes(&mut bytes);
    group(&base32(&bytes))
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

fn group(plain: &str) -> String {
    plain
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// A code as someone typed it (any case, with or without dashes or spaces, a 0, 1 or 8 read
/// for O, I or B) in its stored form, or `None` if it cannot be a code.
pub fn normalize_code(typed: &str) -> Option<String> {
    let plain: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\u{a0}'))
        .map(|c| match c.to_ascii_uppercase() {
            '0' => 'O',
            '1' => 'I',
            '8' => 'B',
            other => other,
        })
        .collect();
    (plain.len() == 16 && plain.bytes().all(|b| ALPHABET.contains(&b))).then(|| group(&plain))
}

/// What a certificate states, exactly as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FormazioneCertificateData)]
#[serde(deny_unknown_fields)]
pub struct CertificateData {
    /// Always `pico.formazione.attestato/1`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The verification code.
    pub code: String,
    /// The person's full name.
    pub person: String,
    /// The course's title.
    pub course: String,
    /// The course's sector, as people read it.
    pub sector: String,
    /// The competences: Syllabus area and level, then the free tags.
    pub competences: Vec<String>,
    /// The day of the edition's first session (Italy), `YYYY-MM-DD`.
    pub first_day: String,
    /// The day of its last session, `YYYY-MM-DD`.
    pub last_day: String,
    /// Hours attended, decimal with two places (`7.50`).
    pub hours: String,
    /// Who issues it: the Province's name.
    pub issuer: String,
    /// The Province's ISTAT code (the node).
    pub province: String,
    /// The day of issue (Italy), `YYYY-MM-DD`.
    pub issued_on: String,
    /// Where anyone can verify it.
    pub url: String,
}

/// The data signed: its canonical bytes and their signature (base64url, no padding).
#[derive(Debug, Clone)]
pub struct Signed {
    /// The canonical JSON bytes.
    pub payload: Vec<u8>,
    /// Ed25519 over `payload`, base64url.
    pub signature: String,
}

/// Serialises `data` canonically and signs the bytes with `key`.
pub fn sign(data: &CertificateData, key: &pico_protocol::SecretKey) -> Signed {
    let payload = pico_protocol::canonical::to_vec(data)
        .expect("certificate data has only strings: always canonical");
    let signature = URL_SAFE_NO_PAD.encode(key.sign(&payload));
    Signed { payload, signature }
}

// ---------------------------------------------------------------------------------------
// The PDF

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 64.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");
const MONO: Name<'static> = Name(b"F3");

/// Text in the PDF's WinAnsi encoding (Windows-1252): Latin-1 letters (àèéìòù…) keep their
/// code, typographic quotes, dashes and the euro take Windows' codes, anything else a `?`.
fn winansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            _ => b'?',
        })
        .collect()
}

/// `text` in lines of at most `width` characters, broken between words (a word longer than
/// a line is cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_owned();
        while word.chars().count() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let cut: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(cut);
        }
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Writes lines top-down from `y`, returning where the next line goes.
struct Writer {
    content: Content,
    y: f32,
}

impl Writer {
    fn line(&mut self, font: Name<'_>, size: f32, text: &str) {
        self.content
            .begin_text()
            .set_font(font, size)
            .next_line(MARGIN, self.y)
            .show(Str(&winansi(text)))
            .end_text();
        self.y -= size * 1.35;
    }

    /// A paragraph wrapped to the page's width (Helvetica averages about half an em a
    /// character; Courier is 0.6 em exactly).
    fn paragraph(&mut self, font: Name<'_>, size: f32, text: &str) {
        let em = if font == MONO { 0.6 } else { 0.52 };
        let width = ((PAGE_WIDTH - 2.0 * MARGIN) / (size * em)) as usize;
        for line in wrap(text, width) {
            self.line(font, size, &line);
        }
    }

    fn gap(&mut self, points: f32) {
        self.y -= points;
    }
}

/// A labelled line: `Ore frequentate: 7,5`.
fn field(w: &mut Writer, label: &str, value: &str) {
    w.paragraph(REGULAR, 11.0, &format!("{label}: {value}"));
}

/// `7.50` as people read it: `7,5`.
pub fn hours_italian(decimal: &str) -> String {
    let (whole, fraction) = decimal.split_once('.').unwrap_or((decimal, ""));
    let fraction = fraction.trim_end_matches('0');
    let whole = whole
        .parse::<i64>()
        .map_or_else(|_| whole.to_owned(), pico_service::format::integer);
    if fraction.is_empty() {
        whole
    } else {
        format!("{whole},{fraction}")
    }
}

/// The certificate as a one-page A4 PDF: what it states, in Italian, then the verification
/// code and address, then the signed bytes (base64url), the signature and the key id, which
/// the document information also carries (`/PicoDati`, `/PicoFirma`, `/PicoChiave`) so a
/// program reads them without parsing the page.
pub fn pdf(data: &CertificateData, signed: &Signed, key_id: &str) -> Vec<u8> {
    let payload = URL_SAFE_NO_PAD.encode(&signed.payload);
    let day = pico_service::format::iso_date;

    let mut w = Writer {
        content: Content::new(),
        y: PAGE_HEIGHT - MARGIN - 10.0,
    };
    w.content.set_fill_rgb(0.0, 0.4, 0.8);
    w.line(BOLD, 13.0, &data.issuer);
    w.content.set_fill_rgb(0.0, 0.0, 0.0);
    w.gap(24.0);
    w.line(BOLD, 22.0, "Attestato di partecipazione");
    w.gap(18.0);
    w.line(REGULAR, 12.0, "Si attesta che");
    w.gap(2.0);
    w.paragraph(BOLD, 16.0, &data.person);
    w.gap(2.0);
    w.line(REGULAR, 12.0, "ha partecipato al corso");
    w.gap(2.0);
    w.paragraph(BOLD, 14.0, &data.course);
    w.gap(12.0);
    field(&mut w, "Settore", &data.sector);
    let dates = if data.first_day == data.last_day {
        format!("il {}", day(&data.first_day))
    } else {
        format!("dal {} al {}", day(&data.first_day), day(&data.last_day))
    };
    field(&mut w, "Edizione", &dates);
    field(&mut w, "Ore frequentate", &hours_italian(&data.hours));
    let competences = if data.competences.is_empty() {
        "—".to_owned()
    } else {
        data.competences.join("; ")
    };
    field(&mut w, "Competenze", &competences);
    w.gap(12.0);
    field(
        &mut w,
        "Rilasciato il",
        &format!("{} da {}", day(&data.issued_on), data.issuer),
    );
    w.gap(20.0);
    w.line(BOLD, 12.0, &format!("Codice di verifica: {}", data.code));
    w.paragraph(
        REGULAR,
        10.0,
        &format!("Verifica l'attestato all'indirizzo {}", data.url),
    );
    w.gap(24.0);
    w.paragraph(
        REGULAR,
        8.0,
        "I dati dell'attestato sono firmati con la chiave Ed25519 della Provincia: chi ha la sua \
         chiave pubblica può verificarli anche senza collegarsi. Dati firmati (JSON canonico, \
         base64url):",
    );
    w.paragraph(MONO, 7.0, &payload);
    w.line(REGULAR, 8.0, "Firma Ed25519 (base64url):");
    w.paragraph(MONO, 7.0, &signed.signature);
    w.line(
        REGULAR,
        8.0,
        &format!("Identificativo della chiave: {key_id}"),
    );

    let catalog = Ref::new(1);
    let pages = Ref::new(2);
    let page = Ref::new(3);
    let fonts = [Ref::new(4), Ref::new(5), Ref::new(6)];
    let content = Ref::new(7);
    let info = Ref::new(8);

    let mut out = Pdf::new();
    out.catalog(catalog).pages(pages).lang(TextStr("it-IT"));
    out.pages(pages).kids([page]).count(1);
    let mut p = out.page(page);
    p.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
    p.parent(pages);
    p.contents(content);
    p.resources()
        .fonts()
        .pair(REGULAR, fonts[0])
        .pair(BOLD, fonts[1])
        .pair(MONO, fonts[2]);
    p.finish();
    for (id, base) in fonts
        .iter()
        .zip([&b"Helvetica"[..], b"Helvetica-Bold", b"Courier"])
    {
        out.type1_font(*id)
            .base_font(Name(base))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    out.stream(content, &w.content.finish());
    let title = format!("Attestato di partecipazione – {}", data.course);
    out.document_info(info)
        .title(TextStr(&title))
        .author(TextStr(&data.issuer))
        .subject(TextStr(&format!(
            "{} – {} ore – codice {}",
            data.person,
            hours_italian(&data.hours),
            data.code
        )))
        .creator(TextStr("Pi.Co. – nodo provinciale"))
        .pair(Name(b"PicoCodice"), TextStr(&data.code))
        .pair(Name(b"PicoDati"), TextStr(&payload))
        .pair(Name(b"PicoFirma"), TextStr(&signed.signature))
        .pair(Name(b"PicoChiave"), TextStr(key_id));
    out.finish()
}

// ---------------------------------------------------------------------------------------
// Operations (shared by the API and the pages)

/// A certificate as the API shows it to anyone with its code: what it states, the exact bytes
/// signed and their signature, the signing key, and whether it is still valid.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = FormazioneCertificate)]
pub struct CertificateView {
    /// The verification code.
    pub code: String,
    /// What the certificate states (the signed bytes, parsed).
    pub data: CertificateData,
    /// The exact canonical JSON bytes signed, base64url without padding: verify the
    /// signature over these bytes, then read them.
    pub payload: String,
    /// Ed25519 (RFC 8032) signature over the payload's bytes, base64url without padding.
    pub signature: String,
    /// Always `EdDSA`.
    pub alg: String,
    /// The signing key's id (its RFC 7638 thumbprint), as the hub lists the node's keys.
    pub key_id: String,
    /// The signing key, `ed25519:` and its 32 bytes in base64url.
    pub public_key: String,
    /// RFC 3339 UTC.
    pub issued_at: String,
    /// Whether it is valid (not revoked).
    pub valid: bool,
    /// RFC 3339 UTC, if revoked.
    pub revoked_at: Option<String>,
    /// Why it was revoked (empty if it is valid).
    pub revoked_reason: String,
    /// The signed bytes as stored (for the PDF).
    #[serde(skip)]
    pub signed_bytes: Vec<u8>,
}

impl CertificateView {
    fn new(row: CertificateRow) -> Result<CertificateView, AppError> {
        let data: CertificateData = serde_json::from_str(&row.payload)
            .map_err(|err| AppError::Internal(format!("stored certificate data: {err}")))?;
        Ok(CertificateView {
            payload: URL_SAFE_NO_PAD.encode(row.payload.as_bytes()),
            data,
            code: row.code,
            signature: row.signature,
            alg: "EdDSA".to_owned(),
            key_id: row.key_id,
            public_key: row.public_key,
            issued_at: db::rfc3339(row.issued_at),
            valid: row.revoked_at.is_none(),
            revoked_at: row.revoked_at.map(db::rfc3339),
            revoked_reason: row.revoked_reason,
            signed_bytes: row.payload.into_bytes(),
        })
    }

    /// The PDF of this certificate, rebuilt from the stored signed bytes.
    pub fn pdf(&self) -> Vec<u8> {
        let signed = Signed {
            payload: self.signed_bytes.clone(),
            signature: self.signature.clone(),
        };
        pdf(&self.data, &signed, &self.key_id)
    }
}

/// What the certificate of a completed enrolment states, on day `today` (`YYYY-MM-DD`).
fn certificate_data(
    conn: &Connection,
    enrolment: &EnrolmentRow,
    code: &str,
    province: &Province,
    public_url: &str,
    today: String,
) -> Result<CertificateData, AppError> {
    let edition = store::get_edition(conn, enrolment.edition_id)?.ok_or(AppError::NotFound)?;
    let course = store::get_course(conn, edition.course_id)?.ok_or(AppError::NotFound)?;
    let (first, last) = match (edition.sessions.first(), edition.sessions.last()) {
        (Some(first), Some(last)) => (first.starts_at, last.ends_at),
        _ => return Err(not_completed()),
    };
    let mut competences = Vec::new();
    if let Some((area, level)) = course.record.syllabus {
        competences.push(format!(
            "Syllabus competenze digitali: {}, livello {}",
            area.label(),
            level.label().to_lowercase()
        ));
    }
    competences.extend(
        course
            .record
            .tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned),
    );
    Ok(CertificateData {
        kind: DATA_TYPE.to_owned(),
        code: code.to_owned(),
        person: enrolment.name.clone(),
        course: course.record.title,
        sector: course.record.sector.label().to_owned(),
        competences,
        first_day: crate::formazione::reports::day_of(first),
        last_day: crate::formazione::reports::day_of(last),
        hours: decimal_hours(enrolment.attended_minutes),
        issuer: province.name.clone(),
        province: province.code.clone(),
        issued_on: today,
        url: format!("{}/attestati/{code}", public_url.trim_end_matches('/')),
    })
}

fn not_completed() -> AppError {
    AppError::Conflict {
        code: "not_completed",
        detail: "L'attestato si rilascia solo a chi ha completato il corso: l'iscrizione non \
                 risulta completata."
            .into(),
    }
}

/// Reads enrolment `id` for `identity`: the office any, a Comune user its own staff's (404
/// for another's).
fn read_enrolment(
    conn: &Connection,
    identity: &Identity,
    id: i64,
) -> Result<EnrolmentRow, AppError> {
    let enrolment = store::get_enrolment(conn, id)?.ok_or(AppError::NotFound)?;
    policy::authorize(
        identity,
        Action::ViewPerson {
            comune: enrolment.comune.as_deref(),
        },
    )?;
    Ok(enrolment)
}

/// Issues the certificate of a completed enrolment (the office, or the person's own Comune),
/// signed with the node's key; an enrolment has one certificate, so asking again returns it
/// (`false`: not issued now). 409 `not_completed` for an enrolment that did not complete.
pub async fn issue(
    state: &AppState,
    identity: &Identity,
    enrolment_id: i64,
) -> Result<(CertificateView, bool), AppError> {
    let user_id = identity.require_user()?.id;
    let identity = identity.clone();
    let signer = state.signer.clone();
    let province = state.province.clone();
    let public_url = state.config.public_url.clone();
    let row = state
        .db
        .call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let enrolment = read_enrolment(&tx, &identity, enrolment_id)?;
            if let Some(row) = store::certificate_of_enrolment(&tx, enrolment_id)? {
                return Ok::<_, AppError>((row, false));
            }
            if !(enrolment.completed && enrolment.state == EnrolmentState::Enrolled) {
                return Err(not_completed());
            }
            let now = db::now();
            let code = new_code();
            let data = certificate_data(
                &tx,
                &enrolment,
                &code,
                &province,
                &public_url,
                crate::formazione::reports::day_of(now),
            )?;
            let signed = sign(&data, &signer.key);
            let row = CertificateRow {
                enrolment_id,
                code,
                payload: String::from_utf8(signed.payload)
                    .map_err(|err| AppError::Internal(err.to_string()))?,
                signature: signed.signature,
                key_id: signer.key.key_id().as_str().to_owned(),
                public_key: signer.key.public_key().to_string(),
                issued_at: now,
                revoked_at: None,
                revoked_reason: String::new(),
            };
            store::insert_certificate(&tx, &row, user_id)?;
            audit::record(
                &tx,
                &identity.actor(),
                "formazione.certificate.issue",
                &format!("formazione_enrolment:{enrolment_id}"),
                &json!({"code": row.code}),
                now,
            )?;
            tx.commit()?;
            Ok((row, true))
        })
        .await?;
    Ok((CertificateView::new(row.0)?, row.1))
}

/// The certificate of enrolment `id` for whoever may see the person (404 when none was
/// issued).
pub async fn of_enrolment(
    state: &AppState,
    identity: &Identity,
    enrolment_id: i64,
) -> Result<CertificateView, AppError> {
    identity.require_user()?;
    let identity = identity.clone();
    let row = state
        .db
        .call(move |conn| {
            read_enrolment(conn, &identity, enrolment_id)?;
            store::certificate_of_enrolment(conn, enrolment_id)?.ok_or(AppError::NotFound)
        })
        .await?;
    CertificateView::new(row)
}

/// The edition of enrolment `enrolment_id` (where a page returns after issuing).
pub async fn edition_of(state: &AppState, enrolment_id: i64) -> Result<i64, AppError> {
    state
        .db
        .call(move |conn| {
            Ok::<_, AppError>(
                store::get_enrolment(conn, enrolment_id)?
                    .ok_or(AppError::NotFound)?
                    .edition_id,
            )
        })
        .await
}

/// The certificate with code `typed` (as typed: any case, with or without dashes), for
/// anyone: the public verification. 404 for a code that is not one of ours.
pub async fn verify(state: &AppState, typed: &str) -> Result<CertificateView, AppError> {
    let code = normalize_code(typed).ok_or(AppError::NotFound)?;
    let row = state
        .db
        .call(move |conn| store::certificate_by_code(conn, &code)?.ok_or(AppError::NotFound))
        .await?;
    CertificateView::new(row)
}

/// Revokes a certificate (the office), with the reason anyone verifying it will read; 409
/// `already_revoked`.
pub async fn revoke(
    state: &AppState,
    identity: &Identity,
    typed: &str,
    reason: &str,
) -> Result<CertificateView, AppError> {
    policy::authorize(identity, Action::Manage)?;
    let code = normalize_code(typed).ok_or(AppError::NotFound)?;
    let reason = pico_service::text::clean(reason, pico_service::text::Lines::One, 500, true)
        .map_err(|err| AppError::invalid_field("reason", err.to_string()))?;
    let identity = identity.clone();
    let row = state
        .db
        .call(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            store::certificate_by_code(&tx, &code)?.ok_or(AppError::NotFound)?;
            let now = db::now();
            if !store::revoke_certificate(&tx, &code, &reason, now)? {
                return Err(AppError::Conflict {
                    code: "already_revoked",
                    detail: "L'attestato è già stato revocato.".into(),
                });
            }
            audit::record(
                &tx,
                &identity.actor(),
                "formazione.certificate.revoke",
                &format!("formazione_certificate:{code}"),
                &json!({"reason": reason}),
                now,
            )?;
            let row = store::certificate_by_code(&tx, &code)?.ok_or(AppError::NotFound)?;
            tx.commit()?;
            Ok::<_, AppError>(row)
        })
        .await?;
    CertificateView::new(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc_4648_vectors() {
        // RFC 4648 §10 (without padding).
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"fo"), "MZXQ");
        assert_eq!(base32(b"foo"), "MZXW6");
        assert_eq!(base32(b"foob"), "MZXW6YQ");
        assert_eq!(base32(b"fooba"), "MZXW6YTB");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
    }

    #[test]
    fn codes_are_sixteen_characters_in_four_groups_and_typed_codes_normalise() {
        let code = new_code();
        assert_eq!(code.len(), 19);
        assert_eq!(normalize_code(&code).as_deref(), Some(code.as_str()));
        assert_ne!(new_code(), code);
        assert_eq!(
            normalize_code(" k7qm 2xra-b0i1 7777 ").as_deref(),
            Some("K7QM-2XRA-BOII-7777")
        );
        assert_eq!(normalize_code("K7QM-2XRA-BOII-777"), None);
        assert_eq!(normalize_code("K7QM-2XRA-BOII-7779"), None);
    }

    #[test]
    fn winansi_keeps_italian_letters_and_wraps_between_words() {
        assert_eq!(winansi("àèéìòù"), vec![0xe0, 0xe8, 0xe9, 0xec, 0xf2, 0xf9]);
        assert_eq!(
            winansi("€ – ’ 中"),
            vec![0x80, b' ', 0x96, b' ', 0x92, b' ', b'?']
        );
        assert_eq!(
            wrap("uno due tre quattro", 7),
            vec!["uno due", "tre", "quattro"]
        );
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(hours_italian("7.50"), "7,5");
        assert_eq!(hours_italian("12.00"), "12");
        assert_eq!(hours_italian("1500.25"), "1.500,25");
    }
}
