//! The SUA's forms on the node's form kit (`crate::web::form`, re-exported here for the SUA
//! pages): the request form (new request, aggregated initiative, edit), its values from a
//! stored procedure, and the reading of submitted forms (URL-encoded or multipart with files).

use std::collections::BTreeMap;

use axum::extract::Multipart;
use maud::{Markup, html};

use crate::error::AppError;
use crate::sua::ops::requests::{RequestInput, ShareInput};
use crate::sua::{AwardCriterion, ContractType, PROCEDURE_TYPES};
use crate::upload::{MultipartForm, Upload};
pub use crate::web::form::{
    Errors, FormState, Values, checkbox, error_summary, field_id, file, input, input_with, select,
    textarea,
};

/// Which request form is shown.
#[derive(Debug, Clone)]
pub enum RequestFormKind {
    /// A new request: SUA staff choose the Comune (`Some(list)`), a Comune user does not.
    New(Option<Vec<(String, String)>>),
    /// A new aggregated initiative (Comuni and shares).
    Initiative,
    /// Editing an existing request; `true` for an aggregated initiative.
    Edit(bool),
}

/// Field labels of the request form, for the error summary.
pub const REQUEST_LABELS: &[(&str, &str)] = &[
    ("comune_code", "Comune"),
    ("object", "Oggetto"),
    ("description", "Descrizione"),
    ("contract_type", "Tipo di contratto"),
    ("cpv_main", "CPV principale"),
    ("cpv_other", "Altri CPV"),
    ("estimated_amount", "Importo stimato"),
    ("procedure_code", "Procedura"),
    ("award_criterion", "Criterio di aggiudicazione"),
    ("cup", "CUP"),
    ("funding_source", "Fonte di finanziamento"),
    ("rup_name", "RUP"),
    ("rup_email", "Email del RUP"),
    ("desired_by", "Aggiudicazione desiderata entro"),
    ("participants", "Comuni e quote"),
    ("attachments", "Allegati"),
    ("attachment", "Allegati"),
];

/// The request form's fields (inside a `<form>` the caller writes).
pub fn request_fields(form: &FormState, kind: &RequestFormKind) -> Markup {
    let types: Vec<(String, String)> = ContractType::ALL
        .iter()
        .map(|t| (t.as_str().to_owned(), t.label().to_owned()))
        .collect();
    let procedures: Vec<(String, String)> = PROCEDURE_TYPES
        .iter()
        .map(|(code, label)| (code.to_string(), format!("{code} — {label}")))
        .collect();
    let criteria: Vec<(String, String)> = AwardCriterion::CHOICES
        .iter()
        .map(|c| (c.as_str().to_owned(), c.label().to_owned()))
        .collect();
    let participants = matches!(
        kind,
        RequestFormKind::Initiative | RequestFormKind::Edit(true)
    );
    html! {
        @if let RequestFormKind::New(Some(comuni)) = kind {
            (select(form, "comune_code", "Comune richiedente", comuni, Some("Scegliete il Comune")))
        }
        (input(form, "object", "Oggetto", "text", true, Some("Che cosa si acquista o si realizza, in una frase (al massimo 500 caratteri)")))
        (textarea(form, "description", "Descrizione", 5, false, None))
        fieldset class="mb-3" {
            legend class="h5" { "Contratto" }
            (select(form, "contract_type", "Tipo di contratto", &types, Some("Scegliete il tipo")))
            (input(form, "cpv_main", "CPV principale", "text", true, Some("8 cifre, trattino e cifra di controllo, es. 45233141-9")))
            (input(form, "cpv_other", "Altri CPV", "text", false, Some("Facoltativi, separati da spazi o virgole")))
            (input(form, "estimated_amount", "Importo stimato (euro)", "text", true, Some("Es. 150.000,00")))
            (select(form, "procedure_code", "Procedura di scelta del contraente (codice ANAC)", &procedures, Some("Scegliete la procedura")))
            (select(form, "award_criterion", "Criterio di aggiudicazione", &criteria, Some("Scegliete il criterio")))
        }
        @if participants {
            (textarea(form, "participants", "Comuni e quote", 6, true,
                Some("Una riga per Comune: codice ISTAT, punto e virgola, quota in euro (es. 026086; 75.000,00). Le quote devono sommare all'importo stimato.")))
        }
        fieldset class="mb-3" {
            legend class="h5" { "Finanziamento" }
            (input(form, "cup", "CUP", "text", false, Some("15 caratteri, es. J51B21000120006; obbligatorio per il PNRR")))
            (input(form, "funding_source", "Fonte di finanziamento", "text", false, Some("Es. bilancio comunale, contributo regionale")))
            (checkbox(form, "pnrr", "Finanziato dal PNRR"))
        }
        fieldset class="mb-3" {
            legend class="h5" { "Responsabile e tempi" }
            (input(form, "rup_name", "RUP (responsabile unico del progetto)", "text", true, None))
            (input(form, "rup_email", "Email del RUP", "email", true, None))
            (input(form, "desired_by", "Aggiudicazione desiderata entro", "date", false, None))
        }
    }
}

/// The values of a request form for a stored procedure (the edit page starts from them).
pub fn request_values(view: &crate::sua::ops::ProcedureView) -> Values {
    let mut values = Values::new();
    let mut set = |name: &str, value: String| {
        values.insert(name.to_owned(), value);
    };
    set("object", view.object.clone());
    set("description", view.description.clone());
    set("contract_type", view.contract_type.as_str().to_owned());
    set("cpv_main", view.cpv_main.clone());
    set("cpv_other", view.cpv_other.join(" "));
    set(
        "estimated_amount",
        crate::sua::Euro::parse(&view.estimated_amount)
            .map(crate::sua::Euro::to_italian_number)
            .unwrap_or_default(),
    );
    set("procedure_code", view.procedure_code.to_string());
    set("award_criterion", view.award_criterion.as_str().to_owned());
    set("cup", view.cup.clone().unwrap_or_default());
    set("funding_source", view.funding_source.clone());
    set("pnrr", if view.pnrr { "true" } else { "" }.to_owned());
    set("rup_name", view.rup_name.clone());
    set("rup_email", view.rup_email.clone());
    set("desired_by", view.desired_by.clone().unwrap_or_default());
    if view.aggregated {
        set(
            "participants",
            view.participants
                .iter()
                .map(|p| {
                    format!(
                        "{}; {}",
                        p.comune_code,
                        crate::sua::Euro::parse(&p.share)
                            .map(crate::sua::Euro::to_italian_number)
                            .unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    values
}

/// Reads "codice; quota" lines.
pub fn parse_shares(text: &str) -> Vec<ShareInput> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (code, share) = line
                .split_once([';', '\t'])
                .or_else(|| line.split_once(' '))
                .unwrap_or((line, ""));
            ShareInput {
                comune_code: code.trim().to_owned(),
                share: share.trim().to_owned(),
            }
        })
        .collect()
}

/// The request input of a submitted request form.
pub fn request_input(values: &Values) -> RequestInput {
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    let optional = |name: &str| Some(get(name)).filter(|v| !v.trim().is_empty());
    RequestInput {
        comune_code: optional("comune_code"),
        object: get("object"),
        description: get("description"),
        contract_type: get("contract_type"),
        cpv_main: get("cpv_main"),
        cpv_other: get("cpv_other")
            .split([' ', ',', ';', '\n'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
        estimated_amount: get("estimated_amount"),
        // An unknown or missing choice becomes 0, which the validation names.
        procedure_code: get("procedure_code").trim().parse().unwrap_or(0),
        award_criterion: get("award_criterion"),
        cup: optional("cup"),
        funding_source: get("funding_source"),
        pnrr: matches!(get("pnrr").as_str(), "true" | "on" | "1"),
        rup_name: get("rup_name"),
        rup_email: get("rup_email"),
        desired_by: optional("desired_by"),
        participants: parse_shares(&get("participants")),
    }
}

/// Field messages of the request form keyed for display: shares' messages gather under
/// `participants` with their line number.
pub fn request_errors(messages: &BTreeMap<String, String>) -> Errors {
    let mut errors = Errors::new();
    for (field, message) in messages {
        if let Some(rest) = field.strip_prefix("participants[") {
            let line = rest
                .split(']')
                .next()
                .and_then(|n| n.parse::<usize>().ok())
                .map_or(0, |n| n + 1);
            let entry = errors.entry("participants".to_owned()).or_default();
            if !entry.is_empty() {
                entry.push_str("; ");
            }
            entry.push_str(&format!("riga {line}: {message}"));
        } else {
            errors.insert(field.clone(), message.clone());
        }
    }
    errors
}

/// A submitted multipart form: its text fields and the files of its `attachments` input.
pub async fn read_multipart(multipart: Multipart) -> Result<(Values, Vec<Upload>), AppError> {
    let form = MultipartForm::read(multipart, "attachments").await?;
    Ok((form.fields, form.files))
}
