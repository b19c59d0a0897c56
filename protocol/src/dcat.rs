//! DCAT-AP_IT: the metadata of a dataset as it travels (`dataset_metadata`, SPEC §8.6), the
//! controlled vocabularies it draws from, the rules a dataset's metadata must meet to enter an
//! open-data catalogue, and the catalogue graph that node and hub both serve ([`crate::rdf`]
//! writes it as Turtle, RDF/XML and JSON-LD).
//!
//! The vocabularies are the EU Publications Office authority tables (data themes, frequencies,
//! file types; © European Union, CC BY 4.0) and AgID's licence vocabulary (CC BY 4.0), with
//! their Italian labels as those files give them (`node/data/dcat/`, `PROVENANCE.md`).

use serde::{Deserialize, Serialize};

use crate::rdf::{Graph, Term, XSD_DATE, XSD_INTEGER};

/// The EU data-theme authority table.
pub const THEME_SCHEME: &str = "http://publications.europa.eu/resource/authority/data-theme";
/// The EU frequency authority table.
pub const FREQUENCY_SCHEME: &str = "http://publications.europa.eu/resource/authority/frequency";
/// The EU file-type authority table.
pub const FILE_TYPE_SCHEME: &str = "http://publications.europa.eu/resource/authority/file-type";
/// AgID's licence vocabulary.
pub const LICENCE_SCHEME: &str = "https://w3id.org/italia/controlled-vocabulary/licences";

/// EU data themes: code and Italian label.
pub const THEMES: &[(&str, &str)] = &[
    (
        "AGRI",
        "Agricoltura, pesca, silvicoltura e prodotti alimentari",
    ),
    ("ECON", "Economia e finanze"),
    ("EDUC", "Istruzione, cultura e sport"),
    ("ENER", "Energia"),
    ("ENVI", "Ambiente"),
    ("GOVE", "Governo e settore pubblico"),
    ("HEAL", "Salute"),
    ("INTR", "Tematiche internazionali"),
    ("JUST", "Giustizia, sistema giuridico e sicurezza pubblica"),
    ("REGI", "Regioni e città"),
    ("SOCI", "Popolazione e società"),
    ("TECH", "Scienza e tecnologia"),
    ("TRAN", "Trasporti"),
];

/// EU frequencies a Province's dataset plausibly has: code and Italian label.
pub const FREQUENCIES: &[(&str, &str)] = &[
    ("UPDATE_CONT", "in continuo aggiornamento"),
    ("DAILY", "quotidiano"),
    ("WEEKLY", "settimanale"),
    ("MONTHLY", "mensile"),
    ("QUARTERLY", "trimestrale"),
    ("ANNUAL_2", "semestrale"),
    ("ANNUAL", "annuale"),
    ("BIENNIAL", "biennale"),
    ("TRIENNIAL", "triennale"),
    ("IRREG", "irregolare"),
    ("NEVER", "mai"),
    ("UNKNOWN", "sconosciuto"),
];

/// AgID's open licences (level 3 of the vocabulary, branch A): code and Italian label.
pub const LICENCES: &[(&str, &str)] = &[
    (
        "A21_CCBY40",
        "Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)",
    ),
    (
        "A11_CCO10",
        "Creative Commons CC0 1.0 Universale - Public Domain Dedication (CC0 1.0)",
    ),
    (
        "A12_PDDL",
        "ODC Public Domain Dedication and License (PDDL)",
    ),
    (
        "A210_ODCBY",
        "Open Data Commons Attribution License (ODC_BY)",
    ),
    ("A29_IODL20", "Italian Open Data License 2.0 (IODL 2.0)"),
    (
        "A31_CCBYSA40",
        "Creative Commons Attribuzione-Condividi allo stesso modo 4.0 Internazionale (CC BY-SA 4.0)",
    ),
    (
        "A310_ODBL",
        "Open Data Commons Open Database License 1.0 (ODbL)",
    ),
];

/// The URI of a vocabulary entry.
pub fn concept_uri(scheme: &str, code: &str) -> String {
    format!("{scheme}/{code}")
}

/// The Italian label of `uri` in a vocabulary, if it is one of its entries.
pub fn label_of(scheme: &str, list: &[(&str, &'static str)], uri: &str) -> Option<&'static str> {
    let code = uri.strip_prefix(scheme)?.strip_prefix('/')?;
    list.iter()
        .find(|(known, _)| *known == code)
        .map(|(_, label)| *label)
}

/// The Italian label of a data-theme URI.
pub fn theme_label(uri: &str) -> Option<&'static str> {
    label_of(THEME_SCHEME, THEMES, uri)
}

/// The Italian label of a frequency URI.
pub fn frequency_label(uri: &str) -> Option<&'static str> {
    label_of(FREQUENCY_SCHEME, FREQUENCIES, uri)
}

/// The Italian label of a licence URI.
pub fn licence_label(uri: &str) -> Option<&'static str> {
    label_of(LICENCE_SCHEME, LICENCES, uri)
}

/// An organisation: the publisher or rights holder of a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    /// Its name (`Provincia di Treviso`).
    pub name: String,
    /// Its code in the Indice delle Pubbliche Amministrazioni (`p_tv`).
    pub ipa_code: String,
}

/// A period of time, both ends `YYYY-MM-DD`, start ≤ end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// First day.
    pub start: String,
    /// Last day.
    pub end: String,
}

/// Payload `dataset_metadata` (protocol version 2): the DCAT-AP_IT description of a dataset the
/// sender federates. The latest one received for (sender, dataset) replaces the earlier ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetMetadata {
    /// The dataset it describes (the name of its `dataset_batch`es).
    pub dataset: String,
    /// Open data (in the public catalogues, with a licence) or internal to Pi.Co.
    pub open: bool,
    /// `dct:identifier`, by DCAT-AP_IT convention `<IPA code>:<local id>`.
    pub identifier: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// EU data-theme URIs.
    pub themes: Vec<String>,
    /// Free keywords.
    pub keywords: Vec<String>,
    /// Who publishes it.
    pub publisher: Agent,
    /// Who holds the rights on it.
    pub rights_holder: Agent,
    /// The e-mail address to write to about it.
    pub contact_point: String,
    /// Last change of the data, `YYYY-MM-DD`.
    pub modified: String,
    /// EU frequency URI.
    pub accrual_periodicity: String,
    /// The time the data cover, if said.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub temporal: Option<Period>,
    /// ISTAT codes of the places the data cover: the Province (3 digits) or Comuni (6).
    pub spatial: Vec<String>,
    /// AgID licence URI.
    pub license: String,
}

fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// A problem with one field of the metadata: the field's name and what to do, in Italian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The member (`description`, `themes`…).
    pub field: &'static str,
    /// What is wrong, for the person editing it.
    pub message: String,
}

fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && matches!(text[5..7].parse::<u32>(), Ok(1..=12))
        && matches!(text[8..10].parse::<u32>(), Ok(1..=31))
}

/// Whether `text` looks like an e-mail address (one `@`, a dotted domain, no spaces).
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !text.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | '\\' | ',' | ';')
        })
}

fn valid_ipa(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 32
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl DatasetMetadata {
    /// Every problem with the metadata, in field order. Values given must be valid (a theme
    /// from the vocabulary, a real date…) whether or not the dataset is open; an open dataset
    /// must also have every element DCAT-AP_IT requires.
    pub fn problems(&self) -> Vec<FieldProblem> {
        let mut problems = Vec::new();
        let mut say = |field: &'static str, message: &str| {
            problems.push(FieldProblem {
                field,
                message: message.to_owned(),
            });
        };
        let open = self.open;
        let blank = |text: &str| text.trim().is_empty();
        if blank(&self.identifier) {
            if open {
                say("identifier", "Indica l'identificativo del dataset.");
            }
        } else if self.identifier.len() > 200 || self.identifier.chars().any(char::is_whitespace) {
            say(
                "identifier",
                "L'identificativo non può contenere spazi né superare 200 caratteri.",
            );
        }
        if open && blank(&self.title) {
            say("title", "Indica il titolo del dataset.");
        }
        if open && blank(&self.description) {
            say(
                "description",
                "Descrivi il dataset: che cosa contiene, da dove vengono i dati.",
            );
        }
        if self.themes.iter().any(|uri| theme_label(uri).is_none()) {
            say(
                "themes",
                "Scegli i temi dal vocabolario europeo dei temi dei dati.",
            );
        } else if open && self.themes.is_empty() {
            say("themes", "Scegli almeno un tema.");
        }
        if self.keywords.iter().any(|k| blank(k)) {
            say("keywords", "Le parole chiave non possono essere vuote.");
        } else if open && self.keywords.is_empty() {
            say("keywords", "Indica almeno una parola chiave.");
        }
        for (field, agent) in [
            ("publisher", &self.publisher),
            ("rights_holder", &self.rights_holder),
        ] {
            if open && (blank(&agent.name) || !valid_ipa(&agent.ipa_code)) {
                say(
                    field,
                    "Indica nome e codice IPA dell'ente (il codice IPA si imposta nella configurazione del nodo).",
                );
            }
        }
        if blank(&self.contact_point) {
            if open {
                say(
                    "contact_point",
                    "Indica l'indirizzo e-mail a cui scrivere per questo dataset.",
                );
            }
        } else if !is_email(&self.contact_point) {
            say(
                "contact_point",
                "Il punto di contatto deve essere un indirizzo e-mail come opendata@provincia.it.",
            );
        }
        if !is_date(&self.modified) {
            say(
                "modified",
                "La data di ultima modifica deve essere nella forma AAAA-MM-GG.",
            );
        }
        if blank(&self.accrual_periodicity) {
            if open {
                say(
                    "accrual_periodicity",
                    "Indica ogni quanto il dataset viene aggiornato.",
                );
            }
        } else if frequency_label(&self.accrual_periodicity).is_none() {
            say(
                "accrual_periodicity",
                "Scegli la frequenza di aggiornamento dal vocabolario europeo delle frequenze.",
            );
        }
        if let Some(period) = &self.temporal
            && (!is_date(&period.start) || !is_date(&period.end) || period.start > period.end)
        {
            say(
                "temporal",
                "La copertura temporale va da una data a una successiva, nella forma AAAA-MM-GG.",
            );
        }
        if self
            .spatial
            .iter()
            .any(|code| !matches!(code.len(), 3 | 6) || !code.bytes().all(|b| b.is_ascii_digit()))
        {
            say(
                "spatial",
                "La copertura geografica si indica con i codici ISTAT della Provincia (3 cifre) o dei Comuni (6 cifre).",
            );
        }
        if blank(&self.license) {
            if open {
                say(
                    "license",
                    "Scegli la licenza con cui il dataset è pubblicato come dato aperto.",
                );
            }
        } else if licence_label(&self.license).is_none() {
            say(
                "license",
                "Scegli una licenza aperta del vocabolario AgID delle licenze.",
            );
        }
        problems
    }

    /// The payload's rules (SPEC §8.6): a valid dataset name and no problem.
    pub fn validate(&self) -> Result<(), String> {
        if !crate::payload::valid_dataset_name(&self.dataset) {
            return Err(format!(
                "il nome del dataset {:?} deve avere da 1 a 64 lettere minuscole, cifre o '_', e iniziare con una lettera",
                self.dataset
            ));
        }
        match self.problems().first() {
            None => Ok(()),
            Some(problem) => Err(format!("{}: {}", problem.field, problem.message)),
        }
    }
}

/// A download of a dataset in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    /// Its IRI.
    pub iri: String,
    /// Where it is downloaded.
    pub url: String,
    /// EU file-type code (`CSV`, `JSON`).
    pub format: &'static str,
}

/// A dataset in a catalogue: its IRI, metadata and downloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueDataset {
    /// Its IRI.
    pub iri: String,
    /// Its metadata.
    pub metadata: DatasetMetadata,
    /// Names of places by ISTAT code, when known (`locn:geographicalName`).
    pub place_names: Vec<(String, String)>,
    /// Its downloads.
    pub distributions: Vec<Distribution>,
}

/// The catalogue itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    /// Its IRI (the URL it is served at).
    pub iri: String,
    /// Base URL of the server (IRIs of agents are minted under it).
    pub base: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Who publishes the catalogue.
    pub publisher: Agent,
    /// Its web page.
    pub homepage: String,
    /// Last change, `YYYY-MM-DD`.
    pub modified: String,
}

/// A page of a paged catalogue (Hydra, as CKAN's DCAT harvesters read it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    /// The URL of this page.
    pub this: String,
    /// Of the first page.
    pub first: String,
    /// Of the last page.
    pub last: String,
    /// Of the next page, if any.
    pub next: Option<String>,
    /// Of the previous page, if any.
    pub previous: Option<String>,
    /// Datasets in the whole catalogue.
    pub total: u64,
    /// Datasets per page.
    pub per_page: u64,
}

/// Where IANA's media types are named (DCAT-AP's `dcat:mediaType` takes them as IRIs).
pub const IANA_MEDIA_TYPES: &str = "http://www.iana.org/assignments/media-types/";

/// The IANA media type of an EU file-type code, for the ones our distributions use.
pub fn media_type(file_type: &str) -> Option<&'static str> {
    match file_type {
        "CSV" => Some("text/csv"),
        "JSON" => Some("application/json"),
        "PARQUET" => Some("application/vnd.apache.parquet"),
        _ => None,
    }
}

macro_rules! iri {
    (dcat $local:literal) => {
        concat!("http://www.w3.org/ns/dcat#", $local)
    };
    (dct $local:literal) => {
        concat!("http://purl.org/dc/terms/", $local)
    };
    (dcatapit $local:literal) => {
        concat!("http://dati.gov.it/onto/dcatapit#", $local)
    };
    (foaf $local:literal) => {
        concat!("http://xmlns.com/foaf/0.1/", $local)
    };
    (vcard $local:literal) => {
        concat!("http://www.w3.org/2006/vcard/ns#", $local)
    };
    (skos $local:literal) => {
        concat!("http://www.w3.org/2004/02/skos/core#", $local)
    };
    (locn $local:literal) => {
        concat!("http://www.w3.org/ns/locn#", $local)
    };
    (hydra $local:literal) => {
        concat!("http://www.w3.org/ns/hydra/core#", $local)
    };
}

/// The IRI of an organisation in a catalogue served under `base`.
pub fn agent_iri(base: &str, agent: &Agent) -> String {
    format!(
        "{}/dati/organizzazioni/{}",
        base.trim_end_matches('/'),
        agent.ipa_code
    )
}

fn text(value: &str) -> Term {
    Term::Text(value.to_owned(), "it")
}

/// Builds the DCAT-AP_IT graph of a catalogue and its datasets (only the open ones are
/// given), with its Hydra paging when it is one page of many.
pub fn catalogue_graph(
    catalogue: &Catalogue,
    datasets: &[CatalogueDataset],
    paging: Option<&Paging>,
) -> Graph {
    let mut g = Graph::default();
    let mut agents: Vec<Agent> = Vec::new();
    let mut concepts: Vec<(String, &'static str, &'static str)> = Vec::new();
    let mut licences: Vec<String> = Vec::new();
    let mut media_types: Vec<String> = Vec::new();
    let cat = Term::iri(&catalogue.iri);
    g.types(&cat, &[iri!(dcat "Catalog"), iri!(dcatapit "Catalog")]);
    g.add(&cat, iri!(dct "title"), text(&catalogue.title));
    g.add(&cat, iri!(dct "description"), text(&catalogue.description));
    g.add(
        &cat,
        iri!(dct "publisher"),
        Term::iri(agent_iri(&catalogue.base, &catalogue.publisher)),
    );
    agents.push(catalogue.publisher.clone());
    g.add(
        &cat,
        iri!(dct "modified"),
        Term::Typed(catalogue.modified.clone(), XSD_DATE),
    );
    g.add(&cat, iri!(foaf "homepage"), Term::iri(&catalogue.homepage));
    g.types(&Term::iri(&catalogue.homepage), &[iri!(foaf "Document")]);
    g.add(&cat, iri!(dcat "themeTaxonomy"), Term::iri(THEME_SCHEME));
    for dataset in datasets {
        g.add(&cat, iri!(dcat "dataset"), Term::iri(&dataset.iri));
    }
    for (n, dataset) in datasets.iter().enumerate() {
        let m = &dataset.metadata;
        let d = Term::iri(&dataset.iri);
        g.types(&d, &[iri!(dcat "Dataset"), iri!(dcatapit "Dataset")]);
        g.add(
            &d,
            iri!(dct "identifier"),
            Term::Plain(m.identifier.clone()),
        );
        g.add(&d, iri!(dct "title"), text(&m.title));
        g.add(&d, iri!(dct "description"), text(&m.description));
        for theme in &m.themes {
            g.add(&d, iri!(dcat "theme"), Term::iri(theme));
            if let Some(label) = theme_label(theme) {
                concepts.push((theme.clone(), THEME_SCHEME, label));
            }
        }
        for keyword in &m.keywords {
            g.add(&d, iri!(dcat "keyword"), text(keyword));
        }
        for (property, agent) in [
            (iri!(dct "publisher"), &m.publisher),
            (iri!(dct "rightsHolder"), &m.rights_holder),
        ] {
            g.add(&d, property, Term::iri(agent_iri(&catalogue.base, agent)));
            if !agents.contains(agent) {
                agents.push(agent.clone());
            }
        }
        let contact = Term::Blank(format!("contatto{n}"));
        g.add(&d, iri!(dcat "contactPoint"), contact.clone());
        g.types(
            &contact,
            &[
                iri!(vcard "Kind"),
                iri!(vcard "Organization"),
                iri!(dcatapit "Organization"),
            ],
        );
        g.add(&contact, iri!(vcard "fn"), text(&m.publisher.name));
        g.add(
            &contact,
            iri!(vcard "hasEmail"),
            Term::iri(format!("mailto:{}", m.contact_point)),
        );
        g.add(
            &d,
            iri!(dct "modified"),
            Term::Typed(m.modified.clone(), XSD_DATE),
        );
        g.add(
            &d,
            iri!(dct "accrualPeriodicity"),
            Term::iri(&m.accrual_periodicity),
        );
        if let Some(label) = frequency_label(&m.accrual_periodicity) {
            concepts.push((m.accrual_periodicity.clone(), FREQUENCY_SCHEME, label));
        }
        if let Some(period) = &m.temporal {
            let t = Term::Blank(format!("periodo{n}"));
            g.add(&d, iri!(dct "temporal"), t.clone());
            g.types(&t, &[iri!(dct "PeriodOfTime")]);
            g.add(
                &t,
                iri!(dcat "startDate"),
                Term::Typed(period.start.clone(), XSD_DATE),
            );
            g.add(
                &t,
                iri!(dcat "endDate"),
                Term::Typed(period.end.clone(), XSD_DATE),
            );
        }
        for (i, code) in m.spatial.iter().enumerate() {
            let place = Term::Blank(format!("luogo{n}_{i}"));
            g.add(&d, iri!(dct "spatial"), place.clone());
            g.types(&place, &[iri!(dct "Location")]);
            g.add(
                &place,
                iri!(dcatapit "geographicalIdentifier"),
                Term::Plain(code.clone()),
            );
            if let Some((_, name)) = dataset.place_names.iter().find(|(c, _)| c == code) {
                g.add(&place, iri!(locn "geographicalName"), text(name));
            }
        }
        for distribution in &dataset.distributions {
            g.add(&d, iri!(dcat "distribution"), Term::iri(&distribution.iri));
        }
        for distribution in &dataset.distributions {
            let x = Term::iri(&distribution.iri);
            g.types(
                &x,
                &[iri!(dcat "Distribution"), iri!(dcatapit "Distribution")],
            );
            g.add(
                &x,
                iri!(dct "title"),
                text(&format!("{} ({})", m.title, distribution.format)),
            );
            g.add(&x, iri!(dcat "accessURL"), Term::iri(&distribution.url));
            g.add(&x, iri!(dcat "downloadURL"), Term::iri(&distribution.url));
            let format = concept_uri(FILE_TYPE_SCHEME, distribution.format);
            g.add(&x, iri!(dct "format"), Term::iri(&format));
            if let Some(media_type) = media_type(distribution.format) {
                let media_type = format!("{IANA_MEDIA_TYPES}{media_type}");
                g.add(&x, iri!(dcat "mediaType"), Term::iri(&media_type));
                if !media_types.contains(&media_type) {
                    media_types.push(media_type);
                }
            }
            g.add(&x, iri!(dct "license"), Term::iri(&m.license));
            if !licences.contains(&m.license) {
                licences.push(m.license.clone());
            }
            if !concepts.iter().any(|(uri, _, _)| *uri == format) {
                concepts.push((format, FILE_TYPE_SCHEME, distribution.format));
            }
        }
    }
    // What the catalogue refers to, described once: organisations, vocabulary entries,
    // licences (DCAT-AP's range rules ask for their classes).
    for agent in &agents {
        let a = Term::iri(agent_iri(&catalogue.base, agent));
        g.types(&a, &[iri!(foaf "Agent"), iri!(dcatapit "Agent")]);
        g.add(&a, iri!(foaf "name"), text(&agent.name));
        g.add(
            &a,
            iri!(dct "identifier"),
            Term::Plain(agent.ipa_code.clone()),
        );
    }
    // The schemes of the vocabulary entries used, with the titles the EU gives them (DCAT-AP's
    // shapes want a title on every concept scheme).
    for (scheme, title) in [
        (THEME_SCHEME, "Data Theme"),
        (FREQUENCY_SCHEME, "Frequency"),
        (FILE_TYPE_SCHEME, "File type"),
    ] {
        if scheme != THEME_SCHEME && !concepts.iter().any(|(_, s, _)| *s == scheme) {
            continue;
        }
        let s = Term::iri(scheme);
        g.types(&s, &[iri!(skos "ConceptScheme")]);
        g.add(&s, iri!(dct "title"), Term::Text(title.into(), "en"));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (uri, scheme, label) in &concepts {
        if seen.contains(&uri.as_str()) {
            continue;
        }
        seen.push(uri);
        let c = Term::iri(uri);
        let class = match *scheme {
            FREQUENCY_SCHEME => iri!(dct "Frequency"),
            FILE_TYPE_SCHEME => iri!(dct "MediaTypeOrExtent"),
            _ => iri!(skos "Concept"),
        };
        g.types(&c, &[iri!(skos "Concept"), class]);
        g.add(&c, iri!(skos "prefLabel"), text(label));
        g.add(&c, iri!(skos "inScheme"), Term::iri(*scheme));
    }
    for media_type in &media_types {
        g.types(&Term::iri(media_type), &[iri!(dct "MediaType")]);
    }
    for licence in &licences {
        let l = Term::iri(licence);
        g.types(&l, &[iri!(dct "LicenseDocument")]);
        if let Some(label) = licence_label(licence) {
            g.add(&l, iri!(foaf "name"), text(label));
        }
    }
    if let Some(paging) = paging {
        let p = Term::iri(&paging.this);
        g.types(&p, &[iri!(hydra "PagedCollection")]);
        g.add(
            &p,
            iri!(hydra "firstPage"),
            Term::Plain(paging.first.clone()),
        );
        g.add(&p, iri!(hydra "lastPage"), Term::Plain(paging.last.clone()));
        if let Some(next) = &paging.next {
            g.add(&p, iri!(hydra "nextPage"), Term::Plain(next.clone()));
        }
        if let Some(previous) = &paging.previous {
            g.add(
                &p,
                iri!(hydra "previousPage"),
                Term::Plain(previous.clone()),
            );
        }
        g.add(
            &p,
            iri!(hydra "totalItems"),
            Term::Typed(paging.total.to_string(), XSD_INTEGER),
        );
        g.add(
            &p,
            iri!(hydra "itemsPerPage"),
            Term::Typed(paging.per_page.to_string(), XSD_INTEGER),
        );
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> DatasetMetadata {
        let tv = Agent {
            name: "Provincia di Treviso".into(),
            ipa_code: "p_tv".into(),
        };
        DatasetMetadata {
            dataset: "appalti".into(),
            open: true,
            identifier: "p_tv:appalti".into(),
            title: "Appalti".into(),
            description: "Le procedure della SUA".into(),
            themes: vec![concept_uri(THEME_SCHEME, "GOVE")],
            keywords: vec!["appalti".into()],
            publisher: tv.clone(),
            rights_holder: tv,
            contact_point: "opendata@provincia.treviso.it".into(),
            modified: "2026-01-15".into(),
            accrual_periodicity: concept_uri(FREQUENCY_SCHEME, "UPDATE_CONT"),
            temporal: None,
            spatial: vec!["026".into()],
            license: concept_uri(LICENCE_SCHEME, "A21_CCBY40"),
        }
    }

    #[test]
    fn complete_open_metadata_has_no_problem() {
        assert_eq!(sample().problems(), []);
        assert!(sample().validate().is_ok());
    }

    #[test]
    fn open_metadata_names_what_is_missing() {
        let mut m = sample();
        m.description = " ".into();
        m.themes.clear();
        let fields: Vec<_> = m.problems().iter().map(|p| p.field).collect();
        assert_eq!(fields, ["description", "themes"]);
        m.open = false;
        assert_eq!(m.problems(), []);
        m.license = "https://example.org/mine".into();
        assert_eq!(m.problems()[0].field, "license");
    }

    #[test]
    fn emails_and_dates() {
        assert!(is_email("a.b@provincia.tv.it"));
        assert!(!is_email("a b@x.it"));
        assert!(!is_email("a@@x.it"));
        assert!(!is_email("a@x"));
        assert!(is_date("2026-02-28"));
        assert!(!is_date("2026-13-01"));
    }
}
