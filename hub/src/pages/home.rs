//! The national home: the 86 Provinces of the UPI programme at a glance. Adhesion as a share
//! of each region's Provinces, the national datasets told in words (what each measures, by
//! region), and the table of the Provinces, sorted and filtered on the server through the
//! query string so that it works without script and every view has its own address.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use pico_service::json::Query;
use serde::{Deserialize, Serialize};

use super::charts::{Bar, bar_chart};
use super::{failure_page, render, scroll_table};
use crate::db::log;
use crate::db::national::{self, DatasetInfo};
use crate::db::registry::{self, ProvinceStatus};
use crate::error::HubError;
use crate::format;
use crate::state::AppState;

/// The query string of the home page: the Province table's filters and order (Italian
/// names, since people see them in the address bar; empty values count as absent).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct HomeQuery {
    /// Words of the name, the car plate abbreviation or the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cerca: Option<String>,
    /// A region's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    regione: Option<String>,
    /// `aderenti` or `non-aderenti`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    adesione: Option<String>,
    /// A column: `codice`, `provincia`, `regione`, `adesione`, `ultimo-invio`, `voci`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ordina: Option<String>,
    /// `crescente` or `decrescente`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    verso: Option<String>,
}

/// A column the table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Code,
    Name,
    Region,
    Adhesion,
    LastEntry,
    Entries,
}

impl Column {
    const ALL: [Column; 6] = [
        Column::Code,
        Column::Name,
        Column::Region,
        Column::Adhesion,
        Column::LastEntry,
        Column::Entries,
    ];

    fn param(self) -> &'static str {
        match self {
            Column::Code => "codice",
            Column::Name => "provincia",
            Column::Region => "regione",
            Column::Adhesion => "adesione",
            Column::LastEntry => "ultimo-invio",
            Column::Entries => "voci",
        }
    }

    fn heading(self) -> &'static str {
        match self {
            Column::Code => "Codice",
            Column::Name => "Provincia",
            Column::Region => "Regione",
            Column::Adhesion => "Adesione",
            Column::LastEntry => "Ultimo invio",
            Column::Entries => "Voci inviate",
        }
    }

    fn numeric(self) -> bool {
        self == Column::Entries
    }

    fn compare(self, a: &ProvinceStatus, b: &ProvinceStatus) -> Ordering {
        match self {
            Column::Code => a.code.cmp(&b.code),
            Column::Name => collation_key(&a.name).cmp(&collation_key(&b.name)),
            Column::Region => collation_key(&a.region)
                .cmp(&collation_key(&b.region))
                .then_with(|| collation_key(&a.name).cmp(&collation_key(&b.name))),
            Column::Adhesion => adhesion_rank(a.enrolment).cmp(&adhesion_rank(b.enrolment)),
            // Never sent sorts before any date, so "most recent first" puts it last.
            Column::LastEntry => a.last_entry_at.cmp(&b.last_entry_at),
            Column::Entries => a.head_seq.cmp(&b.head_seq),
        }
    }
}

/// Letters without accents, lower case: `Forlì-Cesena` sorts with `Forli`.
fn collation_key(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'à' | 'á' | 'À' => 'a',
            'è' | 'é' | 'È' | 'É' => 'e',
            'ì' | 'í' => 'i',
            'ò' | 'ó' => 'o',
            'ù' | 'ú' | 'ü' => 'u',
            other => other,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

fn adhesion_rank(enrolment: &str) -> u8 {
    match enrolment {
        "enrolled" => 0,
        "revoked" => 1,
        _ => 2,
    }
}

/// The Italian label of an enrolment status.
pub(crate) fn enrolment_label(status: &str) -> &'static str {
    match status {
        "enrolled" => "Aderente",
        "revoked" => "Chiave revocata",
        _ => "Non aderente",
    }
}

/// Which Provinces the table shows, by adhesion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Adhesion {
    Any,
    Enrolled,
    NotEnrolled,
}

/// The table's parsed view, with a message per parameter that could not be used.
#[derive(Debug, Clone)]
struct TableView {
    search: Option<String>,
    region: Option<String>,
    adhesion: Adhesion,
    sort: Column,
    descending: bool,
    errors: BTreeMap<&'static str, String>,
}

fn present(value: Option<&String>) -> Option<&str> {
    value.map(|v| v.trim()).filter(|v| !v.is_empty())
}

impl TableView {
    fn parse(query: &HomeQuery, regions: &[String]) -> TableView {
        let mut errors = BTreeMap::new();
        let region = present(query.regione.as_ref()).and_then(|name| {
            let found = regions.iter().find(|r| r.as_str() == name).cloned();
            if found.is_none() {
                errors.insert(
                    "regione",
                    format!("«{name}» non è una regione del programma: scegliere dall'elenco."),
                );
            }
            found
        });
        let adhesion = match present(query.adesione.as_ref()) {
            None => Adhesion::Any,
            Some("aderenti") => Adhesion::Enrolled,
            Some("non-aderenti") => Adhesion::NotEnrolled,
            Some(other) => {
                errors.insert(
                    "adesione",
                    format!("«{other}» non è una scelta valida: scegliere dall'elenco."),
                );
                Adhesion::Any
            }
        };
        let sort = match present(query.ordina.as_ref()) {
            None => Column::Code,
            Some(name) => Column::ALL
                .into_iter()
                .find(|c| c.param() == name)
                .unwrap_or_else(|| {
                    errors.insert(
                        "ordina",
                        format!(
                            "Non si può ordinare per «{name}»: la tabella è ordinata per codice."
                        ),
                    );
                    Column::Code
                }),
        };
        let descending = match present(query.verso.as_ref()) {
            None | Some("crescente") => false,
            Some("decrescente") => true,
            Some(other) => {
                errors.insert(
                    "verso",
                    format!("«{other}» non è un verso: usare crescente o decrescente."),
                );
                false
            }
        };
        let search = present(query.cerca.as_ref()).map(str::to_owned);
        if search.as_ref().is_some_and(|s| s.chars().count() > 100) {
            errors.insert(
                "cerca",
                "Il testo da cercare può avere al massimo 100 caratteri.".to_owned(),
            );
        }
        TableView {
            search: search.filter(|s| s.chars().count() <= 100),
            region,
            adhesion,
            sort,
            descending,
            errors,
        }
    }

    fn keeps(&self, p: &ProvinceStatus) -> bool {
        let adhesion = match self.adhesion {
            Adhesion::Any => true,
            Adhesion::Enrolled => p.enrolment == "enrolled",
            Adhesion::NotEnrolled => p.enrolment != "enrolled",
        };
        let region = self.region.as_ref().is_none_or(|r| *r == p.region);
        let search = self.search.as_ref().is_none_or(|words| {
            let name = collation_key(&p.name);
            collation_key(words).split_whitespace().all(|word| {
                name.contains(word) || p.code == word || p.sigla.eq_ignore_ascii_case(word)
            })
        });
        adhesion && region && search
    }

    /// The query string of this view sorted by `column` (ascending unless it is already).
    fn sort_link(&self, column: Column) -> (String, bool) {
        let descending = column == self.sort && !self.descending;
        let query = HomeQuery {
            cerca: self.search.clone(),
            regione: self.region.clone(),
            adesione: match self.adhesion {
                Adhesion::Any => None,
                Adhesion::Enrolled => Some("aderenti".into()),
                Adhesion::NotEnrolled => Some("non-aderenti".into()),
            },
            ordina: Some(column.param().into()),
            verso: Some(
                if descending {
                    "decrescente"
                } else {
                    "crescente"
                }
                .into(),
            ),
        };
        let encoded = serde_urlencoded::to_string(&query).unwrap_or_default();
        (format!("/?{encoded}#province"), descending)
    }
}

/// How the hub tells a dataset to people: its title, what it measures, and the name of what
/// one row counts. The wire format carries only a dataset's name, so the hub keeps the words
/// for the datasets it knows (`protocol/datasets/`).
struct DatasetWords {
    title: String,
    measures: &'static str,
    unit: &'static str,
    dashboard: Option<(&'static str, &'static str)>,
}

fn dataset_words(name: &str) -> DatasetWords {
    match name {
        "bes_indicatori" => DatasetWords {
            title: "Indicatori BES dei territori (Istat)".into(),
            measures: "Il benessere equo e sostenibile di ciascuna Provincia secondo l'Istat: \
                       salute, istruzione, lavoro, benessere economico, ambiente, sicurezza e gli \
                       altri domini del BES, con un valore per indicatore, sesso e anno.",
            unit: "valori degli indicatori",
            dashboard: Some((
                crate::bes::pages::PATH,
                "Apri il BES dei territori dell'Istat",
            )),
        },
        "bes_provincia" => DatasetWords {
            title: "Indicatori BES calcolati dalle Province".into(),
            measures: "Il BES delle Province: gli indicatori del benessere che ciascuna Provincia \
                       calcola da sé (anni più recenti di quelli dell'Istat o indicatori propri), \
                       mostrati accanto a quelli dell'Istat e sempre distinti da essi.",
            unit: "valori degli indicatori",
            dashboard: Some((
                crate::bes::pages::PATH,
                "Apri il BES dei territori con i valori delle Province",
            )),
        },
        "appalti" => DatasetWords {
            title: "Appalti delle Stazioni Uniche Appaltanti".into(),
            measures: "Le procedure che la Stazione Unica Appaltante di ciascuna Provincia \
                       svolge per i Comuni, dalla pubblicazione in poi: importi, categoria CPV, \
                       finanziamento PNRR, aggiudicazione. Una riga per lotto di gara.",
            unit: "lotti di gara",
            dashboard: Some((
                crate::appalti::pages::PATH,
                "Apri i cruscotti degli appalti",
            )),
        },
        "sape_progetti" => DatasetWords {
            title: "Progetti europei dei SAPE".into(),
            measures: "Le proposte di finanziamento europeo che il Servizio Associato Politiche \
                       Europee di ciascuna Provincia prepara con i Comuni: programma, bando, \
                       partner, contributo UE richiesto e ottenuto. Una riga per proposta e \
                       partner.",
            unit: "righe (proposte per partner)",
            dashboard: Some((crate::sape::pages::PATH, "Apri il quadro dei fondi europei")),
        },
        "formazione_aggregati" => DatasetWords {
            title: "Formazione del personale".into(),
            measures: "La formazione che ciascuna Provincia offre al proprio personale e a quello \
                       dei Comuni: edizioni, sessioni, ore, iscritti, completati e persone formate \
                       per settore del programma e anno. Solo conteggi e ore, nessun dato personale.",
            unit: "righe (settori per anno)",
            dashboard: Some((
                crate::formazione::pages::PATH,
                "Apri i progressi della formazione",
            )),
        },
        "formazione_corsi" => DatasetWords {
            title: "Catalogo nazionale dei corsi di formazione".into(),
            measures: "I corsi che ciascuna Provincia apre al personale delle altre Province: \
                       titolo, settore, ore, modalità, competenze, date, posti e iscrizioni di \
                       ogni edizione. Nessun dato personale.",
            unit: "edizioni",
            dashboard: Some((
                crate::formazione::pages::COURSES_PATH,
                "Apri il catalogo dei corsi",
            )),
        },
        "sit_servizi" => DatasetWords {
            title: "Catalogo dei servizi innovativi (SIT)".into(),
            measures: "I servizi digitali condivisi che ciascuna Provincia offre ai suoi Comuni \
                       (transizione digitale, SPID e CIE, pagoPA, cloud, sicurezza…): costo, \
                       livelli di servizio, Comuni aderenti e loro abitanti. Una riga per servizio.",
            unit: "servizi",
            dashboard: Some((
                crate::sit::pages::PATH,
                "Apri il quadro dei servizi innovativi",
            )),
        },
        "sit_quadro_digitale" => DatasetWords {
            title: "Quadro digitale dei Comuni (SIT)".into(),
            measures: "Le piattaforme nazionali che ciascun Comune usa (SPID, CIE, pagoPA, App IO, \
                       ANPR, PDND, cloud qualificato) e le misure PNRR a cui si è candidato. Una \
                       riga per Comune.",
            unit: "Comuni",
            dashboard: Some((
                crate::sit::pages::PATH,
                "Apri la copertura delle piattaforme",
            )),
        },
        other => DatasetWords {
            title: format!("Dataset «{other}»"),
            measures: "Un dataset che le Province pubblicano nella vista nazionale; l'hub non ne \
                       ha ancora una descrizione.",
            unit: "righe pubblicate",
            dashboard: None,
        },
    }
}

/// A dataset summed by region: Provinces that publish it and rows.
fn dataset_by_region(
    dataset: &DatasetInfo,
    region_of: &BTreeMap<&str, &str>,
) -> Vec<(String, u64, u64)> {
    let mut by_region: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for c in &dataset.contributors {
        let region = region_of.get(c.province.as_str()).copied().unwrap_or("");
        let entry = by_region.entry(region.to_owned()).or_default();
        entry.0 += 1;
        entry.1 += c.rows;
    }
    by_region
        .into_iter()
        .map(|(region, (provinces, rows))| (region, provinces, rows))
        .collect()
}

/// Everything the page shows, read in one go.
struct Loaded {
    provinces: Vec<ProvinceStatus>,
    datasets: Vec<DatasetInfo>,
    log_size: u64,
}

/// `GET /`: the national home.
pub async fn show_home(State(state): State<AppState>, Query(query): Query<HomeQuery>) -> Response {
    let loaded = state
        .db
        .call(|conn| {
            Ok::<_, HubError>(Loaded {
                provinces: registry::list_status(conn)?,
                datasets: national::list_datasets(conn)?,
                log_size: log::latest_checkpoint(conn)?.map_or(0, |c| c.size),
            })
        })
        .await;
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failure_page(&state, "/", error),
    };
    let region_of: BTreeMap<&str, &str> = loaded
        .provinces
        .iter()
        .map(|p| (p.code.as_str(), p.region.as_str()))
        .collect();
    let upi: Vec<&ProvinceStatus> = loaded.provinces.iter().filter(|p| p.upi).collect();
    let mut regions: Vec<String> = upi.iter().map(|p| p.region.clone()).collect();
    regions.sort_by_key(|r| collation_key(r));
    regions.dedup();
    let view = TableView::parse(&query, &regions);
    let mut rows: Vec<&ProvinceStatus> = upi.iter().copied().filter(|p| view.keeps(p)).collect();
    rows.sort_by(|a, b| {
        let order = view.sort.compare(a, b).then_with(|| a.code.cmp(&b.code));
        if view.descending {
            order.reverse()
        } else {
            order
        }
    });
    let enrolled = upi.iter().filter(|p| p.enrolment == "enrolled").count() as u64;
    let islands = upi
        .iter()
        .filter(|p| p.region == "Sicilia" || p.region == "Sardegna")
        .count() as u64;
    let main = html! {
        h1 { "Quadro nazionale delle Province" }
        p class="lead" {
            "Le " (upi.len()) " Province del programma UPI \u{201c}Province & Comuni\u{201d}: "
            (upi.len() as u64 - islands) " delle regioni a statuto ordinario e "
            (islands) " di Sicilia e Sardegna. Ogni Provincia aderente gestisce un proprio nodo "
            "Pi.Co. e invia all'hub, firmati, i dati che sceglie di condividere."
        }
        div class="row g-3 my-2" {
            (card("aderenti", &format!("{} su {}", enrolled, upi.len()), "Province aderenti", None))
            (card("numero-dataset", &format::count(loaded.datasets.len() as u64), "Dataset nazionali", Some(("#dataset", "Vedi i dataset"))))
            (card("voci-registro", &format::count(loaded.log_size), "Voci nel registro di trasparenza", Some((super::transparency::PATH, "Che cos'è il registro"))))
        }
        (adhesion_section(&upi))
        (datasets_section(&loaded.datasets, &region_of))
        (province_table(&view, &rows, &regions, upi.len()))
        p class="small mt-4" { "Elenco delle Province: " (crate::registry::ATTRIBUTION) ". Dati aperti: "
            a href="/v1/provinces" { "elenco delle Province (JSON)" } ", "
            a href="/v1/datasets" { "elenco dei dataset (JSON)" } ", "
            a href="/dati/catalogo.ttl" { "catalogo dei dati aperti delle Province (DCAT-AP_IT, Turtle)" } ", "
            a href=(crate::report::pages::PATH) { "rapporto sul patrimonio informativo delle Province" } "." }
    };
    let response = render(&state, "Quadro nazionale", "/", &main);
    if view.errors.is_empty() {
        response
    } else {
        (StatusCode::BAD_REQUEST, response).into_response()
    }
}

fn card(id: &str, value: &str, label: &str, link: Option<(&str, &str)>) -> Markup {
    html! {
        div class="col-12 col-md-4" { div class="card card-bg h-100" { div class="card-body" {
            p class="h2 mb-0" id=(id) { (value) }
            p class="mb-0" { (label) }
            @if let Some((href, text)) = link { p class="mb-0 mt-2" { a href=(href) { (text) } } }
        } } }
    }
}

fn adhesion_section(upi: &[&ProvinceStatus]) -> Markup {
    let mut by_region: BTreeMap<String, (String, u64, u64)> = BTreeMap::new();
    for p in upi {
        let entry = by_region
            .entry(collation_key(&p.region))
            .or_insert_with(|| (p.region.clone(), 0, 0));
        entry.1 += 1;
        if p.enrolment == "enrolled" {
            entry.2 += 1;
        }
    }
    let regions: Vec<(String, u64, u64)> = by_region.into_values().collect();
    let bars: Vec<Bar> = regions
        .iter()
        .map(|(region, all, enrolled)| Bar {
            label: region.clone(),
            length: *enrolled as f64 / (*all).max(1) as f64,
            shown: format!(
                "{enrolled} su {all} ({})",
                format::share(*enrolled, *all, 0)
            ),
        })
        .collect();
    html! {
        section class="mt-5" aria-labelledby="adesione-per-regione" {
            h2 id="adesione-per-regione" { "Adesione per regione" }
            p { "Per ogni regione, la quota delle sue Province che aderiscono alla federazione: "
                "una barra piena vuol dire che aderiscono tutte." }
            (bar_chart("grafico-adesione", "Quota di Province aderenti per regione", &bars, Some(1.0)))
            (scroll_table("Tabella dell'adesione per regione", &html! {
                table class="table table-sm" id="tabella-adesione" {
                    caption { "Province del programma UPI e Province aderenti, per regione" }
                    thead { tr {
                        th scope="col" { "Regione" }
                        th scope="col" class="text-end" { "Province del programma" }
                        th scope="col" class="text-end" { "Aderenti" }
                        th scope="col" class="text-end" { "Quota" }
                    } }
                    tbody { @for (region, all, enrolled) in &regions { tr {
                        th scope="row" { (region) }
                        td class="text-end" { (all) }
                        td class="text-end" { (enrolled) }
                        td class="text-end" { (format::share(*enrolled, *all, 0)) }
                    } } }
                }
            }))
        }
    }
}

fn datasets_section(datasets: &[DatasetInfo], region_of: &BTreeMap<&str, &str>) -> Markup {
    html! {
        section class="mt-5" aria-labelledby="dataset" {
            h2 id="dataset" { "I dataset nazionali" }
            @if datasets.is_empty() {
                p { "Nessuna Provincia ha ancora pubblicato un dataset nella vista nazionale." }
            }
            @for dataset in datasets {
                @let words = dataset_words(&dataset.name);
                @let id = format!("dataset-{}", dataset.name);
                @let regions = dataset_by_region(dataset, region_of);
                @let updated = dataset.contributors.iter().map(|c| c.updated_at.as_str()).max();
                @let unit_title = capitalised(words.unit);
                article class="mt-4" aria-labelledby=(id) {
                    h3 id=(id) { (words.title) }
                    p { (words.measures) }
                    p {
                        "Lo pubblicano " (dataset.contributors.len()) " Province, per un totale di "
                        (format::count(dataset.rows)) " " (words.unit) "."
                        @if let Some(at) = updated { " Ultimo aggiornamento: " (format::date(at)) "." }
                    }
                    (bar_chart(&format!("grafico-{}", dataset.name),
                        &format!("{unit_title} per regione: {}", words.title),
                        &regions.iter().map(|(r, _, rows)| Bar::count(r.clone(), *rows)).collect::<Vec<_>>(),
                        None))
                    (scroll_table(&format!("Tabella: {unit_title} per regione"), &html! {
                        table class="table table-sm" id=(format!("tabella-{}", dataset.name)) {
                            caption { (unit_title) " per regione: " (words.title) }
                            thead { tr {
                                th scope="col" { "Regione" }
                                th scope="col" class="text-end" { "Province che lo pubblicano" }
                                th scope="col" class="text-end" { (unit_title) }
                            } }
                            tbody { @for (region, provinces, rows) in &regions { tr {
                                th scope="row" { (region) }
                                td class="text-end" { (provinces) }
                                td class="text-end" { (format::count(*rows)) }
                            } } }
                        }
                    }))
                    p {
                        @if let Some((href, text)) = words.dashboard { a href=(href) { (text) } " · " }
                        a href=(format!("/v1/datasets/{}/rows?format=csv&sep=semicolon", dataset.name)) {
                            "Scarica i dati: " (words.title) " (CSV per fogli di calcolo)"
                        }
                        " · "
                        a href=(crate::http::bulk::url(&dataset.name, None, crate::bulk::Format::Csv)) {
                            "tutto l'archivio: " (words.title) " (CSV)"
                        }
                        " · "
                        a href=(crate::http::bulk::url(&dataset.name, None, crate::bulk::Format::Parquet)) {
                            "tutto l'archivio: " (words.title) " (Parquet)"
                        }
                    }
                }
            }
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn field_error(view: &TableView, field: &str) -> Option<Markup> {
    view.errors.get(field).map(|message| {
        html! { div class="small text-danger mt-1" id=(format!("{field}-errore")) { (message) } }
    })
}

fn province_table(
    view: &TableView,
    rows: &[&ProvinceStatus],
    regions: &[String],
    all: usize,
) -> Markup {
    let described = |field: &str| {
        view.errors
            .contains_key(field)
            .then(|| format!("{field}-errore"))
    };
    html! {
        section class="mt-5" aria-labelledby="province" {
            h2 id="province" { "Le " (all) " Province" }
            @if !view.errors.is_empty() {
                div class="alert alert-danger" role="alert" {
                    p class="mb-0" { "Alcuni filtri non sono validi e non sono stati applicati: vedere i messaggi accanto ai campi." }
                }
            }
            form method="get" action="/#province" class="row g-3 my-3" aria-label="Filtra le Province" {
                div class="col-12 col-md-4 form-group mb-0" {
                    label for="cerca" class="active" { "Cerca per nome, sigla o codice" }
                    input type="search" id="cerca" name="cerca" class="form-control"
                        value=(view.search.as_deref().unwrap_or(""))
                        aria-invalid=[view.errors.contains_key("cerca").then_some("true")]
                        aria-describedby=[described("cerca")];
                    @if let Some(e) = field_error(view, "cerca") { (e) }
                }
                div class="col-12 col-md-3 select-wrapper" {
                    label for="regione" { "Regione" }
                    select id="regione" name="regione"
                        aria-invalid=[view.errors.contains_key("regione").then_some("true")]
                        aria-describedby=[described("regione")] {
                        option value="" { "Tutte le regioni" }
                        @for region in regions {
                            option value=(region) selected[view.region.as_deref() == Some(region.as_str())] { (region) }
                        }
                    }
                    @if let Some(e) = field_error(view, "regione") { (e) }
                }
                div class="col-12 col-md-3 select-wrapper" {
                    label for="adesione" { "Adesione" }
                    select id="adesione" name="adesione"
                        aria-invalid=[view.errors.contains_key("adesione").then_some("true")]
                        aria-describedby=[described("adesione")] {
                        option value="" { "Tutte le Province" }
                        option value="aderenti" selected[view.adhesion == Adhesion::Enrolled] { "Solo le aderenti" }
                        option value="non-aderenti" selected[view.adhesion == Adhesion::NotEnrolled] { "Solo le non aderenti" }
                    }
                    @if let Some(e) = field_error(view, "adesione") { (e) }
                }
                input type="hidden" name="ordina" value=(view.sort.param());
                input type="hidden" name="verso" value=(if view.descending { "decrescente" } else { "crescente" });
                div class="col-12 col-md-2 d-flex align-items-end" {
                    button type="submit" class="btn btn-primary" { "Filtra" }
                }
            }
            @for field in ["ordina", "verso"] {
                @if let Some(e) = field_error(view, field) { (e) }
            }
            p role="status" id="conteggio-province" {
                @if rows.len() == all { "Tutte le " (all) " Province" }
                @else { (rows.len()) " Province su " (all) }
                ", ordinate per " (view.sort.heading().to_lowercase())
                (if view.descending { " in senso decrescente" } else { " in senso crescente" }) ". "
                @if rows.len() != all || view.sort != Column::Code || view.descending {
                    a href="/#province" { "Mostra tutte, per codice" }
                }
            }
            (scroll_table("Tabella delle Province", &html! {
                table class="table table-striped" id="tabella-province" {
                    caption { "Province del programma UPI: adesione e ultimo invio di dati all'hub. "
                        "Le intestazioni delle colonne ordinano la tabella." }
                    thead { tr {
                        @for column in Column::ALL {
                            @let (href, next_descending) = view.sort_link(column);
                            @let sorted = (column == view.sort).then_some(if view.descending { "descending" } else { "ascending" });
                            th scope="col" class=[column.numeric().then_some("text-end")] aria-sort=[sorted] {
                                a href=(href) {
                                    (column.heading())
                                    span class="visually-hidden" {
                                        (if next_descending { " (ordina in senso decrescente)" } else { " (ordina in senso crescente)" })
                                    }
                                }
                            }
                        }
                    } }
                    tbody {
                        @for p in rows {
                            tr {
                                td { (p.code) }
                                th scope="row" { (p.name) }
                                td { (p.region) }
                                td { (enrolment_label(p.enrolment)) }
                                td { @if let Some(at) = &p.last_entry_at { (format::date_time(at)) } @else { "Nessun invio" } }
                                td class="text-end" { (format::count(p.head_seq)) }
                            }
                        }
                    }
                }
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn province(code: &str, name: &str, region: &str, enrolment: &'static str) -> ProvinceStatus {
        ProvinceStatus {
            code: code.into(),
            uts: code.into(),
            name: name.into(),
            kind: "Provincia".into(),
            sigla: name[..2].to_uppercase(),
            region: region.into(),
            upi: true,
            enrolment,
            head_seq: 0,
            last_entry_at: None,
        }
    }

    #[test]
    fn the_table_filters_and_sorts_from_the_query_string() {
        let regions = vec!["Lombardia".to_owned(), "Veneto".to_owned()];
        let query = HomeQuery {
            cerca: Some(" trev ".into()),
            regione: Some("Veneto".into()),
            adesione: Some("aderenti".into()),
            ordina: Some("provincia".into()),
            verso: Some("decrescente".into()),
        };
        let view = TableView::parse(&query, &regions);
        assert!(view.errors.is_empty(), "{:?}", view.errors);
        assert!(view.keeps(&province("026", "Treviso", "Veneto", "enrolled")));
        assert!(!view.keeps(&province("026", "Treviso", "Veneto", "not_enrolled")));
        assert!(!view.keeps(&province("017", "Brescia", "Lombardia", "enrolled")));
        let (link, descending) = view.sort_link(Column::Name);
        assert!(!descending, "the sorted column's link reverses the order");
        assert_eq!(
            link,
            "/?cerca=trev&regione=Veneto&adesione=aderenti&ordina=provincia&verso=crescente#province"
        );
        // Sigla and code find a Province too; accents do not matter.
        let view = TableView::parse(
            &HomeQuery {
                cerca: Some("forli".into()),
                ..HomeQuery::default()
            },
            &regions,
        );
        assert!(view.keeps(&province(
            "040",
            "Forlì-Cesena",
            "Emilia-Romagna",
            "enrolled"
        )));
    }

    #[test]
    fn unusable_parameters_get_a_message_each() {
        let query = HomeQuery {
            cerca: None,
            regione: Some("Atlantide".into()),
            adesione: Some("forse".into()),
            ordina: Some("colore".into()),
            verso: Some("obliquo".into()),
        };
        let view = TableView::parse(&query, &["Veneto".to_owned()]);
        assert_eq!(
            view.errors.keys().copied().collect::<Vec<_>>(),
            ["adesione", "ordina", "regione", "verso"]
        );
        assert_eq!(view.sort, Column::Code);
        assert!(view.region.is_none());
    }
}
