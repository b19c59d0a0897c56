//! The national view of EU funds: the figures of the SAPE dashboards and the list of funded
//! projects, computed from the rows of the federated `sape_progetti` dataset (one row per
//! proposal and partner; schema in `protocol/datasets/sape_progetti.md`).
//!
//! Each Province's rows are read once (a range of the rows index, in key order, so the rows
//! of a proposal come together) into its **holdings**: its proposals, each with its partners
//! and its amounts summed. A Province holds a few hundred proposals, so every summary, filter
//! and search is a pass over at most tens of thousands of proposals in memory, never a scan of
//! the national table. As for `appalti` (`db::appalti`), holdings are keyed by the Province
//! and the hash of the last entry that changed its rows, which commits to exactly the rows
//! the hub holds: they are rebuilt only after that Province pushes again.
//!
//! **What is counted.** A proposal is `(Province, proposal_id)`; its rows repeat its
//! attributes and carry one partner each. `submitted` counts proposals from submission on
//! (`submitted`, `second_stage`, `evaluated` and the outcomes after it; `withdrawn` excluded);
//! `evaluated` those past the evaluation; `funded` those whose rows say `funded`. The success
//! rate is funded over evaluated (the dataset's rule). The EU contribution **requested** is
//! summed over submitted proposals (an idea asks nothing yet), the **obtained** one over every
//! row that has it (funded proposals). The Comuni's share is the part of the partners that are
//! Comuni of the sending Province (`comune` not null).

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Deserialize;

use super::DbError;
use super::contributions::{Contributions, Contributor, each_row};

/// The dataset's name.
pub const DATASET: &str = "sape_progetti";

/// The primary key of the national schema, as `dataset_contributions` stores it: a Province
/// whose `sape_progetti` rows have another key is left out (they are not SAPE proposals).
const SCHEMA_KEY: &str = r#"["proposal_id","partner_no"]"#;

/// The states from the submission on (`withdrawn` excluded: it may come before or after).
pub const SUBMITTED_STATES: [&str; 9] = [
    "submitted",
    "second_stage",
    "evaluated",
    "funded",
    "reserve",
    "not_funded",
    "grant_signed",
    "in_execution",
    "closed",
];

/// The states past the evaluation.
pub const EVALUATED_STATES: [&str; 7] = [
    "evaluated",
    "funded",
    "reserve",
    "not_funded",
    "grant_signed",
    "in_execution",
    "closed",
];

/// A partner of a proposal, as its row gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// Its place in the proposal (1, 2…).
    pub no: i64,
    /// Organisation name.
    pub name: String,
    /// ISO 3166 alpha-2 country code, empty if not given.
    pub country: String,
    /// Participant Identification Code, empty if none.
    pub pic: String,
    /// Role code (`coordinator`, `beneficiary`…), empty if not given.
    pub role: String,
    /// ISTAT code when the partner is a Comune of the sending Province.
    pub comune: Option<String>,
    /// EU contribution requested, cents.
    pub requested_cents: i128,
    /// EU contribution obtained, cents, once funded.
    pub obtained_cents: Option<i128>,
}

/// A proposal of one Province, with its partners in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proposal {
    /// The node's id.
    pub id: i64,
    /// The call's identifier.
    pub call_identifier: String,
    /// The topic's identifier.
    pub topic_identifier: String,
    /// Programme code (`horizon_europe`…), empty if not given.
    pub programme: String,
    /// The call's title.
    pub call_title: String,
    /// Acronym.
    pub acronym: String,
    /// Title.
    pub title: String,
    /// State code.
    pub state: String,
    /// The Province's role code.
    pub province_role: String,
    /// Year of the call's deadline (else of the proposal's creation).
    pub year: Option<i64>,
    /// Whether it won its funding.
    pub funded: bool,
    /// EU contribution requested by all partners, cents.
    pub requested_cents: i128,
    /// EU contribution obtained by all partners, cents.
    pub obtained_cents: i128,
    /// The Comuni's part of the requested contribution.
    pub comuni_requested_cents: i128,
    /// The Comuni's part of the obtained contribution.
    pub comuni_obtained_cents: i128,
    /// Partners in order (none for a proposal without partners yet).
    pub partners: Vec<Partner>,
    /// Its acronym, title, call and partners' names in lower case, for the search.
    pub search: String,
}

impl Proposal {
    /// Submitted (from the submission on, not withdrawn).
    pub fn submitted(&self) -> bool {
        SUBMITTED_STATES.contains(&self.state.as_str())
    }

    /// Past the evaluation.
    pub fn evaluated(&self) -> bool {
        EVALUATED_STATES.contains(&self.state.as_str())
    }
}

/// The fields of a row the view reads; the others are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PartnerRow {
    proposal_id: Option<i64>,
    partner_no: Option<i64>,
    call_identifier: Option<String>,
    topic_identifier: Option<String>,
    programme: Option<String>,
    call_title: Option<String>,
    acronym: Option<String>,
    title: Option<String>,
    state: Option<String>,
    province_role: Option<String>,
    partner_name: Option<String>,
    country: Option<String>,
    pic: Option<String>,
    partner_role: Option<String>,
    comune: Option<String>,
    eu_requested_cents: Option<i64>,
    eu_obtained_cents: Option<i64>,
    funded: Option<bool>,
    year: Option<i64>,
}

/// One Province's proposals, in key order.
#[derive(Debug, Default)]
struct Holdings {
    proposals: Vec<Proposal>,
}

/// Reads one Province's rows (a range of the rows index, in key order) into its holdings.
fn build_holdings(conn: &Connection, dataset_id: i64, province: &str) -> Result<Holdings, DbError> {
    let mut proposals: Vec<Proposal> = Vec::new();
    each_row(conn, dataset_id, province, |data| {
        // A row that does not follow the schema is not a proposal: it is left out.
        let Ok(row) = serde_json::from_str::<PartnerRow>(data) else {
            return;
        };
        let Some(id) = row.proposal_id else {
            return;
        };
        if proposals.last().is_none_or(|p| p.id != id) {
            let text = |value: &Option<String>| value.clone().unwrap_or_default();
            proposals.push(Proposal {
                id,
                call_identifier: text(&row.call_identifier),
                topic_identifier: text(&row.topic_identifier),
                programme: text(&row.programme),
                call_title: text(&row.call_title),
                acronym: text(&row.acronym),
                title: text(&row.title),
                state: text(&row.state),
                province_role: text(&row.province_role),
                year: row.year,
                funded: row.funded == Some(true),
                ..Proposal::default()
            });
        }
        let Some(proposal) = proposals.last_mut() else {
            return;
        };
        let no = row.partner_no.unwrap_or(0);
        if no < 1 {
            return;
        }
        let requested = i128::from(row.eu_requested_cents.unwrap_or(0));
        let obtained = row.eu_obtained_cents.map(i128::from);
        let comune = row.comune.filter(|c| !c.is_empty());
        if proposal.submitted() {
            proposal.requested_cents += requested;
            if comune.is_some() {
                proposal.comuni_requested_cents += requested;
            }
        }
        if let Some(obtained) = obtained {
            proposal.obtained_cents += obtained;
            if comune.is_some() {
                proposal.comuni_obtained_cents += obtained;
            }
        }
        proposal.partners.push(Partner {
            no,
            name: row.partner_name.unwrap_or_default(),
            country: row.country.unwrap_or_default(),
            pic: row.pic.unwrap_or_default(),
            role: row.partner_role.unwrap_or_default(),
            comune,
            requested_cents: requested,
            obtained_cents: obtained,
        });
    })?;
    for proposal in &mut proposals {
        proposal.search = search_text(proposal);
    }
    Ok(Holdings { proposals })
}

/// The text a search looks in: acronym, title, call and partners' names, in lower case.
fn search_text(proposal: &Proposal) -> String {
    let mut text = [
        proposal.acronym.as_str(),
        proposal.title.as_str(),
        proposal.call_identifier.as_str(),
        proposal.topic_identifier.as_str(),
        proposal.call_title.as_str(),
    ]
    .join(" ");
    for partner in &proposal.partners {
        text.push(' ');
        text.push_str(&partner.name);
    }
    text.to_lowercase()
}

/// The holdings of each Province, rebuilt when it pushes.
static HOLDINGS: Contributions<Holdings> = Contributions::new();

/// Every contributor (of `province` only, if given) with its holdings, building those that
/// are missing or stale.
fn contributors(
    conn: &Connection,
    province: Option<&str>,
) -> Result<Vec<Contributor<Holdings>>, DbError> {
    HOLDINGS.contributors(conn, DATASET, SCHEMA_KEY, province, build_holdings)
}

/// What a summary groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Province (code, named).
    Province,
    /// Region.
    Region,
    /// Funding programme.
    Programme,
    /// Year of the call's deadline.
    Year,
}

impl Group {
    /// Every grouping, in the order pages show them.
    pub const ALL: [Group; 4] = [
        Group::Province,
        Group::Region,
        Group::Programme,
        Group::Year,
    ];

    /// The query-string name.
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Province => "province",
            Group::Region => "region",
            Group::Programme => "programme",
            Group::Year => "year",
        }
    }

    /// The CSV column of the group's key, in Italian.
    pub fn csv_column(self) -> &'static str {
        match self {
            Group::Province => "codice_provincia",
            Group::Region => "regione",
            Group::Programme => "programma",
            Group::Year => "anno",
        }
    }

    /// Parses the query-string name.
    pub fn parse(text: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.as_str() == text)
    }
}

/// Which proposals are counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this year.
    pub year: Option<i64>,
    /// Only Provinces of this region (its name as ISTAT writes it).
    pub region: Option<String>,
    /// Only this Province (historical code).
    pub province: Option<String>,
    /// Only this programme (code).
    pub programme: Option<String>,
}

impl Filter {
    fn passes_province(&self, contributor: &Contributor<Holdings>) -> bool {
        self.region
            .as_ref()
            .is_none_or(|r| *r == contributor.region)
    }

    fn passes(&self, proposal: &Proposal) -> bool {
        (self.year.is_none() || proposal.year == self.year)
            && self
                .programme
                .as_ref()
                .is_none_or(|p| *p == proposal.programme)
    }
}

/// Additive figures of a set of proposals. Amounts are euro cents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Proposals, in any state.
    pub proposals: u64,
    /// Submitted (from the submission on, withdrawn excluded).
    pub submitted: u64,
    /// Past the evaluation.
    pub evaluated: u64,
    /// Funded.
    pub funded: u64,
    /// EU contribution requested by the submitted proposals.
    pub requested_cents: i128,
    /// EU contribution obtained.
    pub obtained_cents: i128,
    /// The Comuni's part of the requested contribution.
    pub comuni_requested_cents: i128,
    /// The Comuni's part of the obtained contribution.
    pub comuni_obtained_cents: i128,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.proposals += other.proposals;
        self.submitted += other.submitted;
        self.evaluated += other.evaluated;
        self.funded += other.funded;
        self.requested_cents += other.requested_cents;
        self.obtained_cents += other.obtained_cents;
        self.comuni_requested_cents += other.comuni_requested_cents;
        self.comuni_obtained_cents += other.comuni_obtained_cents;
    }

    fn count(&mut self, proposal: &Proposal) {
        self.proposals += 1;
        self.submitted += u64::from(proposal.submitted());
        self.evaluated += u64::from(proposal.evaluated());
        self.funded += u64::from(proposal.funded);
        self.requested_cents += proposal.requested_cents;
        self.obtained_cents += proposal.obtained_cents;
        self.comuni_requested_cents += proposal.comuni_requested_cents;
        self.comuni_obtained_cents += proposal.comuni_obtained_cents;
    }
}

/// One group of a summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTally {
    /// Province code, region, programme code or `YYYY`; empty when the rows do not say.
    pub key: String,
    /// The Province's name for the Province grouping, else empty.
    pub label: String,
    /// Its figures.
    pub tally: Tally,
}

/// A summary: figures by group, and the total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Groups in key order (years by number; the unknown group last).
    pub groups: Vec<GroupTally>,
    /// Every proposal counted.
    pub total: Tally,
    /// Provinces whose rows were read (after the Province and region filters).
    pub provinces: u64,
}

/// The figures of the national `sape_progetti` rows grouped by `group`, counting the
/// proposals that pass `filter`.
pub fn summary(conn: &Connection, group: Group, filter: &Filter) -> Result<Summary, DbError> {
    let contributors: Vec<Contributor<Holdings>> = contributors(conn, filter.province.as_deref())?
        .into_iter()
        .filter(|c| filter.passes_province(c))
        .collect();
    // Keys borrowed from the holdings: no allocation per proposal.
    let mut by_text: BTreeMap<&str, (&str, Tally)> = BTreeMap::new();
    let mut by_year: BTreeMap<Option<i64>, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    for contributor in &contributors {
        let mut own = Tally::default();
        for proposal in &contributor.data.proposals {
            if !filter.passes(proposal) {
                continue;
            }
            own.count(proposal);
            match group {
                Group::Programme => by_text
                    .entry(proposal.programme.as_str())
                    .or_insert(("", Tally::default()))
                    .1
                    .count(proposal),
                Group::Year => by_year.entry(proposal.year).or_default().count(proposal),
                Group::Province | Group::Region => {}
            }
        }
        total.add(&own);
        let (key, label) = match group {
            Group::Province => (contributor.code.as_str(), contributor.name.as_str()),
            Group::Region => (contributor.region.as_str(), ""),
            Group::Programme | Group::Year => continue,
        };
        if own.proposals > 0 {
            by_text
                .entry(key)
                .or_insert((label, Tally::default()))
                .1
                .add(&own);
        }
    }
    let groups = by_text
        .into_iter()
        .map(|(key, (label, tally))| (key.to_owned(), label.to_owned(), tally))
        .chain(by_year.into_iter().map(|(year, tally)| {
            (
                year.map(|y| y.to_string()).unwrap_or_default(),
                String::new(),
                tally,
            )
        }));
    let mut groups: Vec<GroupTally> = groups
        .map(|(key, label, tally)| GroupTally { key, label, tally })
        .collect();
    groups.sort_by_cached_key(|g| {
        (
            g.key.is_empty(),
            g.key.parse::<i64>().unwrap_or(i64::MAX),
            g.key.clone(),
        )
    });
    Ok(Summary {
        groups,
        total,
        provinces: contributors.len() as u64,
    })
}

/// What a Comune took part in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ComuneTally {
    /// Proposals it is a partner of.
    pub proposals: u64,
    /// Of which funded.
    pub funded: u64,
    /// Its own requested contribution, over submitted proposals, cents.
    pub requested_cents: i128,
    /// Its own obtained contribution, cents.
    pub obtained_cents: i128,
}

/// A Comune partner of a Province's proposals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComunePartner {
    /// The Province (historical code).
    pub province: String,
    /// The Comune's ISTAT code.
    pub comune: String,
    /// What it took part in.
    pub tally: ComuneTally,
}

/// The Comuni partners of the proposals that pass `filter`, by Province and Comune code.
pub fn comuni(conn: &Connection, filter: &Filter) -> Result<Vec<ComunePartner>, DbError> {
    let mut out = Vec::new();
    for contributor in contributors(conn, filter.province.as_deref())? {
        if !filter.passes_province(&contributor) {
            continue;
        }
        let mut by_code: BTreeMap<&str, ComuneTally> = BTreeMap::new();
        for proposal in &contributor.data.proposals {
            if !filter.passes(proposal) {
                continue;
            }
            let mut seen: Vec<&str> = Vec::new();
            for partner in &proposal.partners {
                let Some(code) = partner.comune.as_deref() else {
                    continue;
                };
                let tally = by_code.entry(code).or_default();
                // A Comune listed twice in one proposal is one participation.
                if !seen.contains(&code) {
                    seen.push(code);
                    tally.proposals += 1;
                    tally.funded += u64::from(proposal.funded);
                }
                if proposal.submitted() {
                    tally.requested_cents += partner.requested_cents;
                }
                tally.obtained_cents += partner.obtained_cents.unwrap_or(0);
            }
        }
        out.extend(by_code.into_iter().map(|(code, tally)| ComunePartner {
            province: contributor.code.clone(),
            comune: code.to_owned(),
            tally,
        }));
    }
    Ok(out)
}

/// A funded project with its Province.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundedProject {
    /// The Province (historical code).
    pub province: String,
    /// Its name.
    pub province_name: String,
    /// Its region.
    pub region: String,
    /// The project.
    pub proposal: Proposal,
}

/// Whether `proposal` matches every word of `words` (lowercase) in its search text or in the
/// names `comune_name` gives its Comuni (looked up only for a word not found otherwise).
fn matches(proposal: &Proposal, words: &[String], comune_name: &dyn Fn(&str) -> String) -> bool {
    words.iter().all(|word| {
        proposal.search.contains(word.as_str())
            || proposal.partners.iter().any(|partner| {
                partner
                    .comune
                    .as_deref()
                    .is_some_and(|code| comune_name(code).to_lowercase().contains(word.as_str()))
            })
    })
}

/// The funded projects that pass `filter` and contain every word of `query` (case-insensitive),
/// newest year first, then by Province and proposal: `(total, the page from offset)`.
pub fn funded_projects(
    conn: &Connection,
    filter: &Filter,
    query: &str,
    comune_name: &dyn Fn(&str) -> String,
    offset: usize,
    limit: usize,
) -> Result<(usize, Vec<FundedProject>), DbError> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let contributors: Vec<Contributor<Holdings>> = contributors(conn, filter.province.as_deref())?
        .into_iter()
        .filter(|c| filter.passes_province(c))
        .collect();
    let mut found: Vec<(&Contributor<Holdings>, &Proposal)> = Vec::new();
    for contributor in &contributors {
        for proposal in &contributor.data.proposals {
            if proposal.funded && filter.passes(proposal) && matches(proposal, &words, comune_name)
            {
                found.push((contributor, proposal));
            }
        }
    }
    // Newest first; within a year by Province and the node's numbering (stable pages).
    found.sort_by(|(ca, pa), (cb, pb)| {
        pb.year
            .cmp(&pa.year)
            .then_with(|| ca.code.cmp(&cb.code))
            .then_with(|| pa.id.cmp(&pb.id))
    });
    let total = found.len();
    let page = found
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(c, p)| FundedProject {
            province: c.code.clone(),
            province_name: c.name.clone(),
            region: c.region.clone(),
            proposal: p.clone(),
        })
        .collect();
    Ok((total, page))
}

/// The years that have proposals, newest first (for the pages' year choice).
pub fn years(conn: &Connection) -> Result<Vec<i64>, DbError> {
    let mut years: Vec<i64> = contributors(conn, None)?
        .iter()
        .flat_map(|c| c.data.proposals.iter().filter_map(|p| p.year))
        .collect();
    years.sort_unstable_by(|a, b| b.cmp(a));
    years.dedup();
    Ok(years)
}

/// The regions as ISTAT names them, in order.
pub fn regions(conn: &Connection) -> Result<Vec<String>, DbError> {
    let mut stmt = conn.prepare_cached("SELECT DISTINCT region FROM provinces ORDER BY region")?;
    let regions = stmt
        .query_map([], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(regions)
}

/// The Provinces that publish the dataset (code, name), for the pages' choice.
pub fn provinces(conn: &Connection) -> Result<Vec<(String, String)>, DbError> {
    Ok(contributors(conn, None)?
        .into_iter()
        .map(|c| (c.code, c.name))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_from_submission_and_past_evaluation() {
        let proposal = |state: &str| Proposal {
            state: state.to_owned(),
            ..Proposal::default()
        };
        assert!(!proposal("idea").submitted());
        assert!(!proposal("withdrawn").submitted());
        assert!(proposal("second_stage").submitted());
        assert!(!proposal("second_stage").evaluated());
        assert!(proposal("reserve").evaluated());
        assert!(proposal("closed").evaluated());
        let words = vec!["verde".to_owned(), "treviso".to_owned()];
        let project = Proposal {
            acronym: "VERDE".into(),
            partners: vec![Partner {
                no: 1,
                name: "Comune".into(),
                country: "IT".into(),
                pic: String::new(),
                role: String::new(),
                comune: Some("026086".into()),
                requested_cents: 0,
                obtained_cents: None,
            }],
            ..Proposal::default()
        };
        let project = Proposal {
            search: search_text(&project),
            ..project
        };
        assert!(matches(&project, &words, &|_| "Treviso".to_owned()));
        assert!(!matches(&project, &words, &|_| "Asolo".to_owned()));
    }
}
