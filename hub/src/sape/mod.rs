//! The national view of EU funds (SAPE dashboards): what the public API and the `/sape`
//! pages share — the queries they accept, the figures as served (amounts as decimal euro
//! text, rates as percentages with two decimals, rounded half away from zero), Italian
//! labels, and the CSV form of every table. The arithmetic over the rows is in `db::sape`,
//! the routes in `http::sape` and [`pages`].

pub mod pages;

use pico_service::Problem;
use pico_service::csv::{CsvWriter, Separator};
use serde::{Deserialize, Serialize};

use crate::appalti::{comune_name, rounded_div, scaled};
use crate::db::sape::{
    ComunePartner, Filter, FundedProject, Group, GroupTally, Partner, Summary, Tally,
};
pub use crate::query::Format;
use crate::query::{self, bad, present};

/// Attribution required by the licence of the names shown (Provinces, regions, Comuni).
pub const ATTRIBUTION: &str = "Nomi di Province, regioni e Comuni: Fonte: Istat (CC BY 4.0)";

/// The programmes of the dataset (`protocol/datasets/sape_progetti.md`) with their labels.
pub const PROGRAMMES: [(&str, &str); 10] = [
    ("horizon_europe", "Horizon Europe"),
    ("life", "LIFE"),
    ("interreg", "Interreg"),
    ("cerv", "CERV (Cittadini, uguaglianza, diritti e valori)"),
    ("erasmus_plus", "Erasmus+"),
    ("digital_europe", "Europa digitale"),
    ("fesr", "FESR (Fondo europeo di sviluppo regionale)"),
    ("fse_plus", "FSE+ (Fondo sociale europeo Plus)"),
    ("pnrr", "PNRR"),
    ("other", "Altri programmi"),
];

/// The Italian label of a programme code; the code itself for one the hub does not know.
pub fn programme_label(code: &str) -> String {
    match PROGRAMMES.iter().find(|(c, _)| *c == code) {
        Some((_, label)) => (*label).to_owned(),
        None if code.is_empty() => "Non indicato".to_owned(),
        None => code.to_owned(),
    }
}

/// The Italian label of a proposal state (the node's `sape::ProposalState`).
pub fn state_label(state: &str) -> &'static str {
    match state {
        "idea" => "Idea",
        "in_preparation" => "In preparazione",
        "submitted" => "Presentata",
        "second_stage" => "Seconda fase",
        "evaluated" => "Valutata",
        "funded" => "Finanziata",
        "reserve" => "In riserva",
        "not_funded" => "Non finanziata",
        "grant_signed" => "Convenzione firmata",
        "in_execution" => "In esecuzione",
        "closed" => "Chiusa",
        "withdrawn" => "Ritirata",
        _ => "Non indicato",
    }
}

/// The Italian label of the Province's role in a proposal.
pub fn province_role_label(role: &str) -> &'static str {
    match role {
        "coordinator" => "Coordinatrice",
        "partner" => "Partner",
        "support" => "Solo supporto ai Comuni",
        _ => "Non indicato",
    }
}

/// The Italian label of a partner's role, as the EU forms name it.
pub fn partner_role_label(role: &str) -> &'static str {
    match role {
        "coordinator" => "Coordinatore",
        "beneficiary" => "Beneficiario",
        "affiliated_entity" => "Entità affiliata",
        "associated_partner" => "Partner associato",
        _ => "Non indicato",
    }
}

/// The Italian name of a country by its ISO 3166 alpha-2 code (the EU and EEA members and
/// the countries most often associated to EU programmes); the code itself for others.
pub fn country_name(code: &str) -> String {
    let name = match code {
        "AT" => "Austria",
        "BE" => "Belgio",
        "BG" => "Bulgaria",
        "CY" => "Cipro",
        "CZ" => "Cechia",
        "DE" => "Germania",
        "DK" => "Danimarca",
        "EE" => "Estonia",
        "EL" | "GR" => "Grecia",
        "ES" => "Spagna",
        "FI" => "Finlandia",
        "FR" => "Francia",
        "HR" => "Croazia",
        "HU" => "Ungheria",
        "IE" => "Irlanda",
        "IT" => "Italia",
        "LT" => "Lituania",
        "LU" => "Lussemburgo",
        "LV" => "Lettonia",
        "MT" => "Malta",
        "NL" => "Paesi Bassi",
        "PL" => "Polonia",
        "PT" => "Portogallo",
        "RO" => "Romania",
        "SE" => "Svezia",
        "SI" => "Slovenia",
        "SK" => "Slovacchia",
        "IS" => "Islanda",
        "LI" => "Liechtenstein",
        "NO" => "Norvegia",
        "CH" => "Svizzera",
        "UK" | "GB" => "Regno Unito",
        "AL" => "Albania",
        "BA" => "Bosnia ed Erzegovina",
        "ME" => "Montenegro",
        "MK" => "Macedonia del Nord",
        "RS" => "Serbia",
        "TR" => "Turchia",
        "UA" => "Ucraina",
        "MD" => "Moldova",
        "IL" => "Israele",
        "TN" => "Tunisia",
        _ => return code.to_owned(),
    };
    name.to_owned()
}

/// The Italian title of a grouping, as a table heading.
pub fn group_title(group: Group) -> &'static str {
    match group {
        Group::Province => "Provincia",
        Group::Region => "Regione",
        Group::Programme => "Programma",
        Group::Year => "Anno",
    }
}

fn euro(cents: i128) -> String {
    scaled(cents, 2)
}

/// Figures of a group as served: counts, the success rate as a percentage with two decimals
/// (`null` with nothing evaluated), amounts as decimal euro text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = SapeFigures)]
pub struct Figures {
    /// Proposals in any state.
    pub proposals: u64,
    /// Submitted (from the submission on; withdrawn proposals excluded).
    pub submitted: u64,
    /// Past the evaluation (evaluated, funded, reserve, not funded and after).
    pub evaluated: u64,
    /// Funded.
    pub funded: u64,
    /// Funded over evaluated, percent (`33.33`).
    pub success_rate: Option<String>,
    /// EU contribution requested by the submitted proposals (every partner), euro.
    pub requested: String,
    /// EU contribution obtained (every partner), euro.
    pub obtained: String,
    /// The Comuni's part of `requested`, euro.
    pub comuni_requested: String,
    /// The Comuni's part of `obtained`, euro.
    pub comuni_obtained: String,
}

impl Figures {
    /// The served form of a tally.
    pub fn of(tally: &Tally) -> Figures {
        Figures {
            proposals: tally.proposals,
            submitted: tally.submitted,
            evaluated: tally.evaluated,
            funded: tally.funded,
            success_rate: (tally.evaluated > 0).then(|| {
                scaled(
                    rounded_div(
                        i128::from(tally.funded) * 10_000,
                        i128::from(tally.evaluated),
                    ),
                    2,
                )
            }),
            requested: euro(tally.requested_cents),
            obtained: euro(tally.obtained_cents),
            comuni_requested: euro(tally.comuni_requested_cents),
            comuni_obtained: euro(tally.comuni_obtained_cents),
        }
    }

    /// Column names of the CSV form, after the key and label.
    pub const CSV_COLUMNS: [&'static str; 9] = [
        "proposte",
        "presentate",
        "valutate",
        "finanziate",
        "tasso_successo",
        "contributo_richiesto",
        "contributo_ottenuto",
        "richiesto_per_comuni",
        "ottenuto_per_comuni",
    ];

    fn csv_cells(&self, sep: Separator) -> [String; 9] {
        [
            self.proposals.to_string(),
            self.submitted.to_string(),
            self.evaluated.to_string(),
            self.funded.to_string(),
            self.success_rate
                .as_deref()
                .map(|r| sep.decimal(r))
                .unwrap_or_default(),
            sep.decimal(&self.requested),
            sep.decimal(&self.obtained),
            sep.decimal(&self.comuni_requested),
            sep.decimal(&self.comuni_obtained),
        ]
    }
}

/// One group of a summary as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = SapeGroupView)]
pub struct GroupView {
    /// Province code, region, programme code or `YYYY`; empty for rows that do not say.
    pub key: String,
    /// Label for people: the Province's name, the region, the programme's label, the year.
    pub label: String,
    /// Figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// A summary as served by `GET /v1/sape/summary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = SapeSummaryView)]
pub struct SummaryView {
    /// The grouping.
    pub group: String,
    /// The year filter, if any.
    pub year: Option<i64>,
    /// The region filter, if any.
    pub region: Option<String>,
    /// The Province filter, if any.
    pub province: Option<String>,
    /// The programme filter, if any.
    pub programme: Option<String>,
    /// Provinces whose rows are read.
    pub provinces: u64,
    /// Every counted proposal.
    pub total: Figures,
    /// The groups, in key order (years by number; the unknown group last).
    pub items: Vec<GroupView>,
    /// Source of the names.
    pub attribution: &'static str,
}

fn group_label(group: Group, row: &GroupTally) -> String {
    if row.key.is_empty() {
        return "Non indicato".to_owned();
    }
    match group {
        Group::Province => row.label.clone(),
        Group::Programme => programme_label(&row.key),
        Group::Region | Group::Year => row.key.clone(),
    }
}

/// The file name of a CSV download: `base`, then the filters.
fn file_name(base: &str, filter: &Filter) -> String {
    let mut name = base.to_owned();
    for part in [
        filter.province.clone(),
        filter.programme.clone(),
        filter.year.map(|y| y.to_string()),
    ]
    .into_iter()
    .flatten()
    {
        name.push('-');
        name.push_str(&part);
    }
    name.push_str(".csv");
    name
}

impl SummaryView {
    /// The served form of a summary.
    pub fn of(summary: &Summary, group: Group, filter: &Filter) -> SummaryView {
        SummaryView {
            group: group.as_str().to_owned(),
            year: filter.year,
            region: filter.region.clone(),
            province: filter.province.clone(),
            programme: filter.programme.clone(),
            provinces: summary.provinces,
            total: Figures::of(&summary.total),
            items: summary
                .groups
                .iter()
                .map(|row| GroupView {
                    key: row.key.clone(),
                    label: group_label(group, row),
                    figures: Figures::of(&row.tally),
                })
                .collect(),
            attribution: ATTRIBUTION,
        }
    }

    /// The filter the view was made with.
    pub fn filter(&self) -> Filter {
        Filter {
            year: self.year,
            region: self.region.clone(),
            province: self.province.clone(),
            programme: self.programme.clone(),
        }
    }

    /// The CSV file's name.
    pub fn file_name(&self) -> String {
        file_name(&format!("sape-{}", self.group), &self.filter())
    }

    /// The CSV form: one line per group (no total line, so that sums over the file are
    /// right); the first column is named after the grouping.
    pub fn to_csv(&self, sep: Separator, bom: bool) -> Result<Vec<u8>, csv::Error> {
        let mut writer = CsvWriter::new(sep, bom);
        let column = Group::parse(&self.group).map_or(self.group.as_str(), |g| g.csv_column());
        let mut header = vec![column, "descrizione"];
        header.extend(Figures::CSV_COLUMNS);
        writer.write(&header)?;
        for item in &self.items {
            let mut record = vec![item.key.clone(), item.label.clone()];
            record.extend(item.figures.csv_cells(sep));
            writer.write(&record)?;
        }
        writer.finish()
    }
}

/// A Comune partner as served by `GET /v1/sape/comuni`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = SapeComuneView)]
pub struct ComuneView {
    /// The Province whose SAPE built the proposals.
    pub province: String,
    /// The Comune's ISTAT code.
    pub comune: String,
    /// Its name (ISTAT 2025 list; empty for a code not in it).
    pub name: String,
    /// Proposals it takes part in.
    pub proposals: u64,
    /// Of which funded.
    pub funded: u64,
    /// Its own part of the EU contribution requested by submitted proposals, euro.
    pub requested: String,
    /// Its own part of the EU contribution obtained, euro.
    pub obtained: String,
}

impl ComuneView {
    /// The served form.
    pub fn of(partner: &ComunePartner) -> ComuneView {
        ComuneView {
            province: partner.province.clone(),
            comune: partner.comune.clone(),
            name: comune_name(&partner.comune).unwrap_or("").to_owned(),
            proposals: partner.tally.proposals,
            funded: partner.tally.funded,
            requested: euro(partner.tally.requested_cents),
            obtained: euro(partner.tally.obtained_cents),
        }
    }
}

/// The Comuni partners as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = SapeComuniView)]
pub struct ComuniView {
    /// The year filter, if any.
    pub year: Option<i64>,
    /// The region filter, if any.
    pub region: Option<String>,
    /// The Province filter, if any.
    pub province: Option<String>,
    /// The programme filter, if any.
    pub programme: Option<String>,
    /// Comuni partners, by Province and code.
    pub items: Vec<ComuneView>,
    /// Source of the names.
    pub attribution: &'static str,
}

impl ComuniView {
    /// The CSV file's name.
    pub fn file_name(&self) -> String {
        file_name(
            "sape-comuni",
            &Filter {
                year: self.year,
                region: self.region.clone(),
                province: self.province.clone(),
                programme: self.programme.clone(),
            },
        )
    }

    /// The CSV form.
    pub fn to_csv(&self, sep: Separator, bom: bool) -> Result<Vec<u8>, csv::Error> {
        let mut writer = CsvWriter::new(sep, bom);
        writer.write([
            "codice_provincia",
            "codice_comune",
            "comune",
            "proposte",
            "finanziate",
            "contributo_richiesto",
            "contributo_ottenuto",
        ])?;
        for item in &self.items {
            writer.write([
                item.province.clone(),
                item.comune.clone(),
                item.name.clone(),
                item.proposals.to_string(),
                item.funded.to_string(),
                sep.decimal(&item.requested),
                sep.decimal(&item.obtained),
            ])?;
        }
        writer.finish()
    }
}

/// A partner of a funded project as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PartnerView {
    /// Its place in the proposal (1, 2…).
    pub no: i64,
    /// Organisation name.
    pub name: String,
    /// ISO 3166 alpha-2 country code.
    pub country: String,
    /// The country's Italian name.
    pub country_name: String,
    /// Participant Identification Code, if any.
    pub pic: Option<String>,
    /// Role code: `coordinator`, `beneficiary`, `affiliated_entity`, `associated_partner`.
    pub role: String,
    /// ISTAT code when the partner is a Comune of the Province.
    pub comune: Option<String>,
    /// That Comune's name (ISTAT 2025 list).
    pub comune_name: Option<String>,
    /// EU contribution obtained by the partner, euro.
    pub obtained: String,
}

impl PartnerView {
    fn of(partner: &Partner) -> PartnerView {
        PartnerView {
            no: partner.no,
            name: partner.name.clone(),
            country: partner.country.clone(),
            country_name: country_name(&partner.country),
            pic: (!partner.pic.is_empty()).then(|| partner.pic.clone()),
            role: partner.role.clone(),
            comune: partner.comune.clone(),
            comune_name: partner
                .comune
                .as_deref()
                .and_then(comune_name)
                .map(str::to_owned),
            obtained: euro(partner.obtained_cents.unwrap_or(0)),
        }
    }
}

/// A funded project as served by `GET /v1/sape/projects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProjectView {
    /// The Province whose SAPE built it (historical code).
    pub province: String,
    /// Its name.
    pub province_name: String,
    /// Its region.
    pub region: String,
    /// The proposal, as the Province numbers it.
    pub proposal_id: i64,
    /// Acronym.
    pub acronym: String,
    /// Title.
    pub title: String,
    /// Programme code.
    pub programme: String,
    /// Its Italian label.
    pub programme_label: String,
    /// The call's identifier.
    pub call_identifier: String,
    /// The topic's identifier.
    pub topic_identifier: String,
    /// The call's title.
    pub call_title: String,
    /// Year of the call's deadline.
    pub year: Option<i64>,
    /// State code (`funded`, `grant_signed`, `in_execution`, `closed`).
    pub state: String,
    /// The Province's role: `coordinator`, `partner`, `support`.
    pub province_role: String,
    /// EU contribution obtained by every partner, euro.
    pub obtained: String,
    /// The Comuni's part of it, euro.
    pub comuni_obtained: String,
    /// Partners in order.
    pub partners: Vec<PartnerView>,
}

impl ProjectView {
    /// The served form.
    pub fn of(project: &FundedProject) -> ProjectView {
        let p = &project.proposal;
        ProjectView {
            province: project.province.clone(),
            province_name: project.province_name.clone(),
            region: project.region.clone(),
            proposal_id: p.id,
            acronym: p.acronym.clone(),
            title: p.title.clone(),
            programme: p.programme.clone(),
            programme_label: programme_label(&p.programme),
            call_identifier: p.call_identifier.clone(),
            topic_identifier: p.topic_identifier.clone(),
            call_title: p.call_title.clone(),
            year: p.year,
            state: p.state.clone(),
            province_role: p.province_role.clone(),
            obtained: euro(p.obtained_cents),
            comuni_obtained: euro(p.comuni_obtained_cents),
            partners: p.partners.iter().map(PartnerView::of).collect(),
        }
    }
}

/// A page of funded projects as served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ProjectsPage {
    /// Projects matching the filters and the search, in all pages.
    pub total: u64,
    /// This page's projects: newest year first, then by Province and proposal.
    pub items: Vec<ProjectView>,
    /// Cursor of the next page; `null` on the last.
    pub next: Option<String>,
    /// Source of the names.
    pub attribution: &'static str,
}

/// The CSV form of a list of funded projects: one line per partner (a project without
/// partners is one line with the partner's columns empty).
pub fn projects_csv(
    projects: &[ProjectView],
    sep: Separator,
    bom: bool,
) -> Result<Vec<u8>, csv::Error> {
    let mut writer = CsvWriter::new(sep, bom);
    writer.write([
        "codice_provincia",
        "provincia",
        "regione",
        "id_proposta",
        "acronimo",
        "titolo",
        "programma",
        "identificativo_bando",
        "identificativo_topic",
        "anno",
        "stato",
        "ruolo_provincia",
        "contributo_progetto",
        "n_partner",
        "partner",
        "paese",
        "pic",
        "ruolo_partner",
        "codice_comune",
        "comune",
        "contributo_partner",
    ])?;
    for project in projects {
        let common = [
            project.province.clone(),
            project.province_name.clone(),
            project.region.clone(),
            project.proposal_id.to_string(),
            project.acronym.clone(),
            project.title.clone(),
            project.programme.clone(),
            project.call_identifier.clone(),
            project.topic_identifier.clone(),
            project.year.map(|y| y.to_string()).unwrap_or_default(),
            project.state.clone(),
            project.province_role.clone(),
            sep.decimal(&project.obtained),
        ];
        if project.partners.is_empty() {
            let mut record = common.to_vec();
            record.extend(std::iter::repeat_n(String::new(), 8));
            writer.write(&record)?;
        }
        for partner in &project.partners {
            let mut record = common.to_vec();
            record.extend([
                partner.no.to_string(),
                partner.name.clone(),
                partner.country.clone(),
                partner.pic.clone().unwrap_or_default(),
                partner.role.clone(),
                partner.comune.clone().unwrap_or_default(),
                partner.comune_name.clone().unwrap_or_default(),
                sep.decimal(&partner.obtained),
            ]);
            writer.write(&record)?;
        }
    }
    writer.finish()
}

/// The query string of the summary and Comuni endpoints (parameters left empty count as
/// absent, as a form sends them).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// `province` (default), `region`, `programme` or `year` (summary only).
    pub group: Option<String>,
    /// Only proposals of this year (of the call's deadline, e.g. `2025`).
    pub year: Option<String>,
    /// Only Provinces of this region, named as ISTAT names it (e.g. `Veneto`).
    pub region: Option<String>,
    /// Only this Province (ISTAT historical code, e.g. `026`).
    pub province: Option<String>,
    /// Only this programme: `horizon_europe`, `life`, `interreg`, `cerv`, `erasmus_plus`,
    /// `digital_europe`, `fesr`, `fse_plus`, `pnrr` or `other`.
    pub programme: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
    /// CSV separator: `comma` (default) or `semicolon` (decimals then with a comma).
    pub sep: Option<String>,
    /// CSV only: `1` starts the file with the UTF-8 byte order mark (for Excel).
    pub bom: Option<String>,
}

/// The query string of the funded projects' list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProjectParams {
    /// Only projects of this year (of the call's deadline, e.g. `2025`).
    pub year: Option<String>,
    /// Only Provinces of this region, named as ISTAT names it (e.g. `Veneto`).
    pub region: Option<String>,
    /// Only this Province (ISTAT historical code, e.g. `026`).
    pub province: Option<String>,
    /// Only this programme (as for the summary).
    pub programme: Option<String>,
    /// Words to find, all of them, in the acronym, title, call, or a partner's name.
    pub q: Option<String>,
    /// Projects per page: 50 by default; values above 200 are reduced to 200, 0 is read as 1.
    pub limit: Option<String>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
    /// `json` (default) or `csv` (every matching project, one line per partner).
    pub format: Option<String>,
    /// CSV separator: `comma` (default) or `semicolon`.
    pub sep: Option<String>,
    /// CSV only: `1` starts the file with the UTF-8 byte order mark.
    pub bom: Option<String>,
}

/// A parsed, valid query of the summary or the Comuni.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The grouping.
    pub group: Group,
    /// The filter.
    pub filter: Filter,
    /// The answer's format.
    pub format: Format,
}

/// A parsed, valid query of the funded projects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRequest {
    /// The filter.
    pub filter: Filter,
    /// The search words.
    pub q: String,
    /// Page size.
    pub limit: usize,
    /// Projects to skip.
    pub offset: usize,
    /// The answer's format.
    pub format: Format,
}

/// The filters, checked for form; whether a region or Province exists is checked against the
/// database by the caller.
fn parse_filter(
    year: Option<&String>,
    region: Option<&String>,
    province: Option<&String>,
    programme: Option<&String>,
) -> Result<Filter, Problem> {
    let year = query::year(year)?;
    let province = query::province(province)?;
    let programme = present(programme)
        .map(|text| {
            PROGRAMMES
                .iter()
                .find(|(code, _)| *code == text)
                .map(|(code, _)| (*code).to_owned())
                .ok_or_else(|| {
                    bad(format!(
                        "programme «{text}» non è un programma: usare uno tra {}",
                        PROGRAMMES.map(|(code, _)| code).join(", ")
                    ))
                })
        })
        .transpose()?;
    Ok(Filter {
        year,
        region: present(region).map(str::to_owned),
        province,
        programme,
    })
}

impl Params {
    /// Checks the parameters, with a message naming the one that is wrong.
    pub fn parse(&self) -> Result<Request, Problem> {
        let group = match present(self.group.as_ref()) {
            None => Group::Province,
            Some(text) => Group::parse(text).ok_or_else(|| {
                bad(format!(
                    "group «{text}» non è un raggruppamento: usare uno tra {}",
                    Group::ALL.map(Group::as_str).join(", ")
                ))
            })?,
        };
        Ok(Request {
            group,
            filter: parse_filter(
                self.year.as_ref(),
                self.region.as_ref(),
                self.province.as_ref(),
                self.programme.as_ref(),
            )?,
            format: query::format(self.format.as_ref(), self.sep.as_ref(), self.bom.as_ref())?,
        })
    }
}

impl ProjectParams {
    /// Checks the parameters, with a message naming the one that is wrong.
    pub fn parse(&self) -> Result<ProjectRequest, Problem> {
        let limit = match present(self.limit.as_ref()) {
            None => pico_service::page::DEFAULT_PAGE_SIZE,
            Some(text) if text.bytes().all(|b| b.is_ascii_digit()) => {
                text.parse::<u32>().unwrap_or(u32::MAX)
            }
            Some(text) => {
                return Err(bad(format!(
                    "limit «{text}» non valido: un numero intero da 0 in su"
                )));
            }
        }
        .clamp(1, pico_service::page::MAX_PAGE_SIZE);
        let offset: u64 = present(self.cursor.as_ref())
            .map(pico_service::page::decode_cursor)
            .transpose()?
            .unwrap_or(0);
        let q = present(self.q.as_ref()).unwrap_or("");
        if q.chars().count() > 200 {
            return Err(bad("q troppo lungo: al massimo 200 caratteri"));
        }
        Ok(ProjectRequest {
            filter: parse_filter(
                self.year.as_ref(),
                self.region.as_ref(),
                self.province.as_ref(),
                self.programme.as_ref(),
            )?,
            q: q.to_owned(),
            limit: limit as usize,
            offset: usize::try_from(offset).unwrap_or(usize::MAX),
            format: query::format(self.format.as_ref(), self.sep.as_ref(), self.bom.as_ref())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_rate_and_amounts() {
        let figures = Figures::of(&Tally {
            proposals: 5,
            submitted: 4,
            evaluated: 3,
            funded: 1,
            requested_cents: 12_345_678,
            obtained_cents: 5,
            comuni_requested_cents: 0,
            comuni_obtained_cents: -1,
        });
        assert_eq!(figures.success_rate.as_deref(), Some("33.33"));
        assert_eq!(figures.requested, "123456.78");
        assert_eq!(figures.obtained, "0.05");
        assert_eq!(figures.comuni_obtained, "-0.01");
        assert_eq!(Figures::of(&Tally::default()).success_rate, None);
        let two_thirds = Figures::of(&Tally {
            evaluated: 3,
            funded: 2,
            ..Tally::default()
        });
        assert_eq!(two_thirds.success_rate.as_deref(), Some("66.67"));
    }

    #[test]
    fn labels_are_italian() {
        assert_eq!(programme_label("horizon_europe"), "Horizon Europe");
        assert_eq!(programme_label(""), "Non indicato");
        assert_eq!(programme_label("xyz"), "xyz");
        assert_eq!(state_label("in_execution"), "In esecuzione");
        assert_eq!(country_name("DE"), "Germania");
        assert_eq!(country_name("ZZ"), "ZZ");
        assert_eq!(
            partner_role_label("associated_partner"),
            "Partner associato"
        );
    }

    #[test]
    fn parameters_are_checked_with_clear_messages() {
        let params = |programme: Option<&str>, format: Option<&str>, bom: Option<&str>| Params {
            programme: programme.map(str::to_owned),
            format: format.map(str::to_owned),
            bom: bom.map(str::to_owned),
            ..Params::default()
        };
        let error = params(Some("horizon"), None, None).parse().unwrap_err();
        assert!(
            error.detail().unwrap().contains("horizon_europe"),
            "{error:?}"
        );
        assert!(params(None, None, Some("1")).parse().is_err());
        assert_eq!(
            params(Some("life"), Some("csv"), Some("1")).parse().ok(),
            Some(Request {
                group: Group::Province,
                filter: Filter {
                    programme: Some("life".into()),
                    ..Filter::default()
                },
                format: Format::Csv(Separator::Comma, true),
            })
        );
        let projects = ProjectParams {
            limit: Some("9999".into()),
            q: Some("  verde  ".into()),
            ..ProjectParams::default()
        }
        .parse()
        .unwrap();
        assert_eq!((projects.limit, projects.q.as_str()), (200, "verde"));
        assert!(
            ProjectParams {
                limit: Some("-1".into()),
                ..ProjectParams::default()
            }
            .parse()
            .is_err()
        );
    }
}
