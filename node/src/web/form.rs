//! The form kit of every page: what the person typed (kept when a submit is refused), the
//! Italian messages by field, the error summary at the top whose items link to the fields,
//! and field helpers that draw label, hint, the message beside the field, `aria-invalid` and
//! `aria-describedby`.
//!
//! A refused submit answers 422 with the same page drawn again from [`FormState::refused`]:
//! every value kept, each message beside its field, and the summary focused (it carries
//! `tabindex="-1"` and `autofocus`, so the browser moves focus to it without any script and
//! a screen reader reads the list of mistakes first). A file input cannot be filled again by
//! the server: [`file`] says so beside the field.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use crate::error::AppError;

/// What the person typed, by field name: shown again when the form comes back with errors.
pub type Values = BTreeMap<String, String>;
/// Italian messages by field name.
pub type Errors = BTreeMap<String, String>;

/// The values of a form from its (name, value) pairs.
pub fn values<const N: usize>(pairs: [(&str, String); N]) -> Values {
    pairs
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// Messages by field, gathered while a module checks its input so that one 422 names every
/// mistake (SAPE and SIT operations).
#[derive(Debug, Default)]
pub struct FieldErrors(Errors);

impl FieldErrors {
    /// Records `message` for `field` (the first message of a field is kept).
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }

    /// The value, or records the error and gives `None`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    /// Whether no message was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` if there is no message, else the 422 problem naming every field.
    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            return Ok(());
        }
        Err(crate::web::list::refuse(&self.0))
    }
}

/// The key of a message that belongs to the whole form rather than to one field.
pub const FORM: &str = "form";

/// A form being shown: its values and its messages.
#[derive(Debug, Clone, Default)]
pub struct FormState {
    /// Values by field.
    pub values: Values,
    /// Messages by field.
    pub errors: Errors,
    /// Prefix of the fields' HTML ids, so several forms on one page keep their ids unique
    /// (`move-published-` gives `move-published-deadline_on`).
    pub prefix: String,
}

impl FormState {
    /// An empty form whose field ids start with `prefix`.
    pub fn prefixed(prefix: &str) -> FormState {
        FormState {
            prefix: prefix.to_owned(),
            ..FormState::default()
        }
    }

    /// A form showing `values` (a first display, or an edit page starting from stored data).
    pub fn with_values(values: Values) -> FormState {
        FormState {
            values,
            ..FormState::default()
        }
    }

    /// The form after `error` refused its submit: `values` kept, the error's field messages
    /// by field, or its detail as a message of the whole form when it names no field.
    pub fn refused(values: Values, error: &AppError) -> FormState {
        let mut errors = field_messages(error);
        if errors.is_empty() {
            errors.insert(FORM.to_owned(), detail(error));
        }
        FormState {
            values,
            errors,
            ..FormState::default()
        }
    }

    /// The HTML id of field `name`.
    pub fn id(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The value of `name`, or empty.
    pub fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    /// The value of `name`, or `default` when the form has none.
    pub fn value_or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.values.get(name).map_or(default, String::as_str)
    }

    /// The message of `name`.
    pub fn error(&self, name: &str) -> Option<&str> {
        self.errors.get(name).map(String::as_str)
    }

    /// Whether the form came back refused.
    pub fn is_refused(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The same form with its field ids starting with `prefix`.
    pub fn with_prefix(self, prefix: impl Into<String>) -> FormState {
        FormState {
            prefix: prefix.into(),
            ..self
        }
    }

    /// The same form with its message of the whole form (a refused move names no field)
    /// shown beside `field` instead.
    pub fn whole_form_message_beside(mut self, field: &str) -> FormState {
        if let Some(message) = self.errors.remove(FORM) {
            self.errors.insert(field.to_owned(), message);
        }
        self
    }

    /// The same form with each message keyed by the input it belongs to (`links[0].url`
    /// becomes `links`), for forms that draw one input for a list.
    pub fn messages_by_input(mut self) -> FormState {
        self.errors = self
            .errors
            .into_iter()
            .map(|(field, message)| (field_id(&field), message))
            .collect();
        self
    }
}

/// The field messages of a problem (`errors` of its document), by field name.
pub fn field_messages(error: &AppError) -> Errors {
    let value = serde_json::to_value(error.to_problem()).unwrap_or_default();
    value
        .get("errors")
        .and_then(|errors| serde_json::from_value(errors.clone()).ok())
        .unwrap_or_default()
}

/// The detail a person reads for `error`.
fn detail(error: &AppError) -> String {
    error
        .to_problem()
        .detail()
        .unwrap_or("La richiesta non può essere accolta.")
        .to_owned()
}

/// Whether `error` should come back on the form (input mistakes, refused moves, a file too
/// large) rather than as an error page (not signed in, not allowed, not found, trouble).
pub fn returns_to_form(error: &AppError) -> bool {
    matches!(
        error.to_problem().status(),
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::CONFLICT | StatusCode::PAYLOAD_TOO_LARGE
    )
}

/// The answer to a refused submit: the page drawn again, with the status of `error` (422
/// for input mistakes, 409 for a refused move, 413 for a file too large).
pub fn refused(error: &AppError, page: Markup) -> Response {
    (error.to_problem().status(), page).into_response()
}

/// The answer to a page's submit. When the operation succeeded, `done` answers (a redirect
/// with its flash message); when it failed with an error that belongs on the form (see
/// [`returns_to_form`]), the page `redraw` draws again for that error, with its status; any
/// other error goes on, to be shown as an error page.
pub async fn answer<T>(
    outcome: Result<T, AppError>,
    done: impl FnOnce(T) -> Response,
    redraw: impl AsyncFnOnce(&AppError) -> Result<Markup, AppError>,
) -> Result<Response, AppError> {
    match outcome {
        Ok(value) => Ok(done(value)),
        Err(error) if returns_to_form(&error) => Ok(refused(&error, redraw(&error).await?)),
        Err(error) => Err(error),
    }
}

/// The answer to a submit whose page reports the outcome itself (an import and its rejected
/// rows): the page `draw` draws for the outcome, 200 when it succeeded or the error's status
/// when the error belongs on the form; any other error goes on, to be shown as an error page.
pub async fn report<T>(
    outcome: Result<T, AppError>,
    draw: impl AsyncFnOnce(&Result<T, AppError>) -> Result<Markup, AppError>,
) -> Result<Response, AppError> {
    match outcome {
        Err(error) if !returns_to_form(&error) => Err(error),
        outcome => {
            let status = outcome
                .as_ref()
                .err()
                .map_or(StatusCode::OK, |error| error.to_problem().status());
            Ok((status, draw(&outcome).await?).into_response())
        }
    }
}

/// The alert of a refused import (it takes the focus as a summary does not: the page is a
/// report): the error's detail, or `heading` over the rows that failed, each with its place
/// and message.
pub fn import_refusal(error: &AppError, heading: &str) -> Markup {
    let rows = field_messages(error);
    html! {
        div class="alert alert-danger" role="alert" id="import-errors" tabindex="-1" {
            @if rows.is_empty() { p class="mb-0" { (error.to_problem().detail().unwrap_or_default()) } } @else {
                p class="fw-bold" { (heading) }
                ul class="mb-0" { @for (place, message) in &rows { li { (place) ": " (message) } } }
            }
        }
    }
}

/// The form that sends a file to import to `action`: one required file input, `file`,
/// labelled `label` and accepting the types `accept`.
pub fn import_form(action: &str, csrf: &str, label: &str, accept: &str) -> Markup {
    html! {
        form method="post" action=(action) enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(csrf);
            div class="mb-3" {
                label for="file" class="form-label" { (label) " *" }
                input type="file" class="form-control" id="file" name="file" accept=(accept) required;
            }
            button type="submit" class="btn btn-primary" id="import" { "Importa" }
        }
    }
}

/// The answer to a refused submit whose mistakes the page found itself: 422.
pub fn unprocessable(page: Markup) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

/// The summary at the top of a form with errors: every message, each linking to its field
/// (`labels` names the fields as the person reads them). It takes the focus when the page
/// loads, so the person (and a screen reader) starts from the list of what to correct.
pub fn error_summary(form: &FormState, labels: &[(&str, &str)]) -> Markup {
    html! {
        @if form.is_refused() {
            div class="alert alert-danger" role="alert" id=(form.id("form-errors")) tabindex="-1" autofocus
                aria-labelledby=(form.id("form-errors-title")) {
                p class="fw-bold mb-1" id=(form.id("form-errors-title")) { "Correggi i seguenti campi" }
                ul class="mb-0" {
                    @for (field, message) in &form.errors {
                        @if field == FORM {
                            li { (message) }
                        } @else {
                            @let label = labels.iter().find(|(name, _)| field == name || field.starts_with(&format!("{name}["))).map_or(field.as_str(), |(_, label)| *label);
                            li { a href=(format!("#{}", form.id(&field_id(field)))) { (label) } ": " (message) }
                        }
                    }
                }
            }
        }
    }
}

/// The index of the item of `list` a field names (`platforms[2].since` gives 2 for
/// `platforms`).
pub fn item_index(field: &str, list: &str) -> Option<usize> {
    field
        .strip_prefix(list)?
        .strip_prefix('[')?
        .split(']')
        .next()?
        .parse()
        .ok()
}

/// The HTML name of a field's input (`participants[0].share` becomes `participants`).
pub fn field_id(field: &str) -> String {
    field.split(['[', '.']).next().unwrap_or(field).to_owned()
}

/// The id `aria-describedby` names: the message when there is one (it says what to
/// correct), else the hint.
fn described_by(id: &str, hint: bool, error: bool) -> Option<String> {
    if error {
        Some(format!("{id}-error"))
    } else if hint {
        Some(format!("{id}-hint"))
    } else {
        None
    }
}

fn hint_text(id: &str, hint: Option<&str>) -> Markup {
    html! {
        @if let Some(hint) = hint { small class="form-text d-block" id=(format!("{id}-hint")) { (hint) } }
    }
}

fn feedback(id: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = error {
            div class="invalid-feedback d-block" id=(format!("{id}-error")) { (message) }
        }
    }
}

fn control_class(base: &str, error: bool) -> String {
    if error {
        format!("{base} is-invalid")
    } else {
        base.to_owned()
    }
}

/// A text-like input (`kind`: text, email, date, number, search) with its label and message.
pub fn input(
    form: &FormState,
    name: &str,
    label: &str,
    kind: &str,
    required: bool,
    hint: Option<&str>,
) -> Markup {
    input_with(form, name, label, kind, required, hint, "")
}

/// Like [`input`], with a default value when the form has none.
pub fn input_with(
    form: &FormState,
    name: &str,
    label: &str,
    kind: &str,
    required: bool,
    hint: Option<&str>,
    default: &str,
) -> Markup {
    let error = form.error(name);
    let id = form.id(name);
    html! {
        div class="form-group" {
            label for=(id) class="active" { (label) @if required { " *" } }
            input type=(kind) class=(control_class("form-control", error.is_some()))
                id=(id) name=(name) value=(form.value_or(name, default)) required[required]
                aria-invalid=[error.map(|_| "true")] aria-describedby=[described_by(&id, hint.is_some(), error.is_some())];
            (hint_text(&id, hint))
            (feedback(&id, error))
        }
    }
}

/// A textarea with its label and message.
pub fn textarea(
    form: &FormState,
    name: &str,
    label: &str,
    rows: u32,
    required: bool,
    hint: Option<&str>,
) -> Markup {
    let error = form.error(name);
    let id = form.id(name);
    html! {
        div class="form-group" {
            label for=(id) class="active" { (label) @if required { " *" } }
            textarea class=(control_class("form-control", error.is_some()))
                id=(id) name=(name) rows=(rows) required[required] aria-invalid=[error.map(|_| "true")]
                aria-describedby=[described_by(&id, hint.is_some(), error.is_some())] { (form.value(name)) }
            (hint_text(&id, hint))
            (feedback(&id, error))
        }
    }
}

/// A required select with its label and message; `options` are (value, label).
pub fn select(
    form: &FormState,
    name: &str,
    label: &str,
    options: &[(String, String)],
    placeholder: Option<&str>,
) -> Markup {
    select_with(form, name, label, options, placeholder, true)
}

/// A select with its label and message, marked required or not.
pub fn select_with(
    form: &FormState,
    name: &str,
    label: &str,
    options: &[(String, String)],
    placeholder: Option<&str>,
    required: bool,
) -> Markup {
    let error = form.error(name);
    let current = form.value(name);
    let id = form.id(name);
    html! {
        div class="mb-3" {
            label for=(id) class="form-label" { (label) @if required { " *" } }
            select class=(control_class("form-select", error.is_some())) id=(id) name=(name)
                aria-invalid=[error.map(|_| "true")] aria-describedby=[described_by(&id, false, error.is_some())] {
                @if let Some(placeholder) = placeholder { option value="" { (placeholder) } }
                @for (value, text) in options {
                    option value=(value) selected[value == current] { (text) }
                }
            }
            (feedback(&id, error))
        }
    }
}

/// A checkbox.
pub fn checkbox(form: &FormState, name: &str, label: &str) -> Markup {
    let checked = matches!(form.value(name), "true" | "on" | "1");
    let id = form.id(name);
    html! {
        div class="form-check mb-3" {
            input class="form-check-input" type="checkbox" id=(id) name=(name) value="true" checked[checked];
            label class="form-check-label" for=(id) { (label) }
        }
    }
}

/// The message beside a file input of a refused form: a browser never lets a page fill a
/// file input, so the person must choose the file again.
pub const FILE_NOT_KEPT: &str =
    "Il file scelto non è stato conservato: sceglilo di nuovo prima di inviare.";

/// A file input with its label, hint and message. When the form comes back refused it says
/// beside the field that the file must be chosen again.
pub fn file(
    form: &FormState,
    name: &str,
    label: &str,
    hint: Option<&str>,
    multiple: bool,
    accept: Option<&str>,
) -> Markup {
    let error = form.error(name);
    let id = form.id(name);
    let again = form.is_refused();
    let mut described = described_by(&id, hint.is_some(), error.is_some());
    if again {
        let note = format!("{id}-again");
        described = Some(described.map_or(note.clone(), |ids| format!("{ids} {note}")));
    }
    html! {
        div class="mb-3" {
            label for=(id) class="form-label" { (label) }
            input type="file" class=(control_class("form-control", error.is_some())) id=(id) name=(name)
                multiple[multiple] accept=[accept] aria-invalid=[error.map(|_| "true")] aria-describedby=[described];
            (hint_text(&id, hint))
            @if again { small class="form-text d-block text-danger" id=(format!("{id}-again")) { (FILE_NOT_KEPT) } }
            (feedback(&id, error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_form() -> FormState {
        let mut form = FormState::prefixed("x-");
        form.values
            .insert("subject".into(), "Stampante & rete".into());
        form.errors
            .insert("subject".into(), "L'oggetto è troppo lungo.".into());
        form.errors.insert(FORM.into(), "Riprova.".into());
        form
    }

    #[test]
    fn summary_links_each_field_and_takes_the_focus() {
        let html = error_summary(&refused_form(), &[("subject", "Oggetto")]).into_string();
        assert!(html.contains("Correggi i seguenti campi"), "{html}");
        assert!(html.contains("tabindex=\"-1\" autofocus"), "{html}");
        assert!(
            html.contains("<a href=\"#x-subject\">Oggetto</a>: L&#39;oggetto")
                || html.contains("<a href=\"#x-subject\">Oggetto</a>: L'oggetto"),
            "{html}"
        );
        assert!(html.contains("<li>Riprova.</li>"), "{html}");
        assert!(
            error_summary(&FormState::default(), &[])
                .into_string()
                .is_empty()
        );
    }

    #[test]
    fn field_keeps_its_value_and_shows_its_message() {
        let html = input(
            &refused_form(),
            "subject",
            "Oggetto",
            "text",
            true,
            Some("Breve"),
        )
        .into_string();
        assert!(html.contains("value=\"Stampante &amp; rete\""), "{html}");
        assert!(html.contains("aria-invalid=\"true\""), "{html}");
        assert!(
            html.contains("aria-describedby=\"x-subject-error\""),
            "{html}"
        );
        assert!(html.contains("id=\"x-subject-error\""), "{html}");
    }

    #[test]
    fn list_messages_find_their_item_and_their_input() {
        assert_eq!(item_index("platforms[2].since", "platforms"), Some(2));
        assert_eq!(item_index("platforms", "platforms"), None);
        assert_eq!(item_index("measures[1].amount", "platforms"), None);
        let mut form = FormState::with_values(values([("links", "x".to_owned())]));
        form.errors
            .insert("links[0].url".into(), "Indirizzo non valido.".into());
        form.errors.insert(FORM.into(), "Riprova.".into());
        let form = form.messages_by_input().whole_form_message_beside("status");
        assert_eq!(form.error("links"), Some("Indirizzo non valido."));
        assert_eq!(form.error("status"), Some("Riprova."));
        assert_eq!(form.error(FORM), None);
        assert_eq!(form.with_prefix("p-").id("links"), "p-links");
    }

    #[test]
    fn an_import_refusal_lists_the_rows_or_says_the_detail() {
        let rows = AppError::invalid_field("riga 3", "CIG mancante");
        let html = import_refusal(&rows, "Righe non valide:").into_string();
        assert!(html.contains("<li>riga 3: CIG mancante</li>"), "{html}");
        assert!(html.contains("Righe non valide:"), "{html}");
        let form = import_form("/x/importa", "t", "File CSV", ".csv").into_string();
        assert!(form.contains("File CSV *"), "{form}");
        assert!(form.contains("accept=\".csv\" required"), "{form}");
    }

    #[test]
    fn file_input_says_the_file_was_not_kept() {
        let html = file(&refused_form(), "attachment", "Allegato", None, false, None).into_string();
        assert!(html.contains(FILE_NOT_KEPT), "{html}");
        assert!(
            html.contains("aria-describedby=\"x-attachment-again\""),
            "{html}"
        );
        let fresh = file(
            &FormState::default(),
            "attachment",
            "Allegato",
            None,
            false,
            None,
        )
        .into_string();
        assert!(!fresh.contains(FILE_NOT_KEPT));
    }
}
