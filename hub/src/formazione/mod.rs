//! The national view of training (Formazione): the progress of each Province, of each region
//! and of the whole programme against the targets the hub holds (people trained per sector:
//! 5/3/3/4 per Province, 430/258/258/344 over the 86 Provinces), the hours delivered and
//! attended, the completion rate, and the Provinces behind. What the API and the `/formazione`
//! page share: the queries, the figures as served, Italian labels, the CSV of every table.
//! Rows are read in `db::formazione`, the routes are in `http::formazione` and [`pages`].
//!
//! **How progress is counted.** For each Province of the programme and each sector with a
//! target, the people trained (summed over the years asked) are credited up to the target:
//! a surplus in one sector or Province does not make up for a shortfall in another. The
//! *share of the target* of a group is its credited people over its target. A Province is
//! **behind** when its share is below the share the whole programme has reached (over the
//! same years): it is behind the common pace. Provinces that publish nothing have trained no
//! one as far as the hub knows.

pub mod courses;
pub mod pages;

use pico_protocol::targets::FormazioneTargets;
use pico_service::Problem;
use pico_service::csv::{CsvWriter, Separator};
use serde::{Deserialize, Serialize};

use crate::appalti::{rounded_div, scaled};
use crate::db::formazione::{Filter, ProvinceProgress, Tally};
pub use crate::query::Format;
use crate::query::{self, bad, flag, present};

/// Attribution required by the licence of the names shown (Provinces, regions).
pub const ATTRIBUTION: &str = "Nomi di Province e regioni: Fonte: Istat (CC BY 4.0)";

/// The Italian label of a sector code, from the targets (else the dataset's own names).
pub fn sector_label(targets: &FormazioneTargets, code: &str) -> String {
    if let Some(target) = targets.sectors.iter().find(|s| s.sector == code) {
        return target.label.clone();
    }
    match code {
        "appalti" => "Appalti",
        "europa" => "Europa",
        "innovazione" => "Innovazione e Digitalizzazione",
        "personale" => "Politiche del personale",
        "altro" => "Altri settori",
        other => other,
    }
    .to_owned()
}

/// What the progress is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Each Province.
    Province,
    /// Each region.
    Region,
    /// Each sector, over the Provinces asked.
    Sector,
}

impl Group {
    /// Every grouping, in the order the page shows them.
    pub const ALL: [Group; 3] = [Group::Sector, Group::Region, Group::Province];

    /// The query-string name.
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Province => "province",
            Group::Region => "region",
            Group::Sector => "sector",
        }
    }

    /// The Italian title, as a table heading.
    pub fn title(self) -> &'static str {
        match self {
            Group::Province => "Provincia",
            Group::Region => "Regione",
            Group::Sector => "Settore",
        }
    }

    fn parse(text: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.as_str() == text)
    }
}

/// A percentage with two decimals of `part / whole`, `None` when `whole` is 0.
fn percent(part: u64, whole: u64) -> Option<String> {
    (whole > 0).then(|| scaled(rounded_div(i128::from(part) * 10_000, i128::from(whole)), 2))
}

/// Minutes as hours with two decimals (`90` → `1.50`).
fn hours(minutes: u64) -> String {
    scaled(rounded_div(i128::from(minutes) * 100, 60), 2)
}

/// Progress of one sector, for a group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = FormazioneSectorProgress)]
pub struct SectorProgress {
    /// Sector code (`appalti`, `europa`, `innovazione`, `personale`).
    pub sector: String,
    /// People trained (summed over the years asked).
    pub people_trained: u64,
    /// The group's target: people per Province times its Provinces of the programme.
    pub target: u64,
    /// People credited to the target (each Province's up to its own target).
    pub credited: u64,
    /// `credited / target`, percent with two decimals; `null` without a target.
    pub target_share: Option<String>,
}

/// The figures of a group as served.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = FormazioneFigures)]
pub struct Figures {
    /// People trained in the sectors with a target (summed over sectors and years).
    pub people_trained: u64,
    /// The target over those sectors.
    pub target: u64,
    /// People credited to the target (see the module documentation).
    pub credited: u64,
    /// `credited / target`, percent with two decimals; `null` without a target.
    pub target_share: Option<String>,
    /// Editions (every sector, `altro` included).
    pub editions: u64,
    /// Sessions.
    pub sessions: u64,
    /// Hours of the sessions (scheduled in the years asked), two decimals.
    pub hours_delivered: String,
    /// Hours attended by everyone enrolled, two decimals.
    pub hours_attended: String,
    /// Enrolments holding a seat.
    pub enrolled: u64,
    /// Of which completed.
    pub completed: u64,
    /// `completed / enrolled`, percent with two decimals; `null` with no enrolment.
    pub completion_rate: Option<String>,
}

/// One group (a Province, a region or a sector) as served.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = FormazioneGroupProgress)]
pub struct GroupProgress {
    /// Province code, region name or sector code.
    pub key: String,
    /// The Province's or sector's name; the region again.
    pub label: String,
    /// The region (Provinces only; empty otherwise).
    pub region: String,
    /// Provinces of the programme in the group.
    pub provinces: u64,
    /// Provinces of the group that publish the dataset.
    pub publishing: u64,
    /// Provinces of the group behind the programme's pace; in the sector grouping, the
    /// Provinces of the programme below the sector's own target.
    pub behind: u64,
    /// The figures.
    #[serde(flatten)]
    pub figures: Figures,
    /// Per sector with a target (empty in the sector grouping).
    pub sectors: Vec<SectorProgress>,
}

/// The progress as served by `GET /v1/formazione/progress`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = FormazioneProgress)]
pub struct ProgressView {
    /// The grouping.
    pub group: String,
    /// The year filter, if any.
    pub year: Option<i64>,
    /// The region filter, if any.
    pub region: Option<String>,
    /// Only the Provinces behind (`behind=1`, Province grouping).
    pub behind_only: bool,
    /// Revision of the targets used (`GET /v1/formazione/targets`).
    pub targets_revision: u64,
    /// The whole of what was asked (the programme, or the region).
    pub total: GroupProgress,
    /// The groups: sectors in the targets' order then `altro`; regions and Provinces by name
    /// and code.
    pub items: Vec<GroupProgress>,
    /// Source of the names.
    pub attribution: &'static str,
}

/// The additive state of a group while it is summed.
#[derive(Debug, Default)]
struct Sum {
    provinces: u64,
    publishing: u64,
    behind: u64,
    all: Tally,
    /// Per target sector: trained, target, credited.
    sectors: Vec<(u64, u64, u64)>,
}

impl Sum {
    fn new(targets: &FormazioneTargets) -> Sum {
        Sum {
            sectors: vec![(0, 0, 0); targets.sectors.len()],
            ..Sum::default()
        }
    }

    fn add_province(
        &mut self,
        targets: &FormazioneTargets,
        province: &ProvinceProgress,
        behind: bool,
    ) {
        self.provinces += u64::from(province.programme);
        self.publishing += u64::from(province.publishing);
        self.behind += u64::from(behind);
        for tally in province.sectors.values() {
            self.all.add(tally);
        }
        for (slot, target) in self.sectors.iter_mut().zip(&targets.sectors) {
            let (trained, credited, own_target) =
                province_sector(targets, province, &target.sector);
            slot.0 += trained;
            slot.1 += own_target;
            slot.2 += credited;
        }
    }

    fn view(
        &self,
        targets: &FormazioneTargets,
        key: String,
        label: String,
        region: String,
    ) -> GroupProgress {
        let (trained, target, credited) = self
            .sectors
            .iter()
            .fold((0, 0, 0), |acc, s| (acc.0 + s.0, acc.1 + s.1, acc.2 + s.2));
        GroupProgress {
            key,
            label,
            region,
            provinces: self.provinces,
            publishing: self.publishing,
            behind: self.behind,
            figures: figures(&self.all, trained, target, credited),
            sectors: targets
                .sectors
                .iter()
                .zip(&self.sectors)
                .map(|(t, (trained, target, credited))| SectorProgress {
                    sector: t.sector.clone(),
                    people_trained: *trained,
                    target: *target,
                    credited: *credited,
                    target_share: percent(*credited, *target),
                })
                .collect(),
        }
    }
}

fn figures(all: &Tally, trained: u64, target: u64, credited: u64) -> Figures {
    Figures {
        people_trained: trained,
        target,
        credited,
        target_share: percent(credited, target),
        editions: all.editions,
        sessions: all.sessions,
        hours_delivered: hours(all.minutes_scheduled),
        hours_attended: hours(all.minutes_attended),
        enrolled: all.enrolled,
        completed: all.completed,
        completion_rate: percent(all.completed, all.enrolled),
    }
}

/// A Province's people trained in `sector`, credited to its target, and its target.
fn province_sector(
    targets: &FormazioneTargets,
    province: &ProvinceProgress,
    sector: &str,
) -> (u64, u64, u64) {
    let trained = province.sectors.get(sector).map_or(0, |t| t.people_trained);
    let target = if province.programme {
        targets.per_province(sector)
    } else {
        0
    };
    (trained, trained.min(target), target)
}

/// A Province's credited people and target over every target sector.
fn province_credit(targets: &FormazioneTargets, province: &ProvinceProgress) -> (u64, u64) {
    targets.sectors.iter().fold((0, 0), |acc, t| {
        let (_, credited, target) = province_sector(targets, province, &t.sector);
        (acc.0 + credited, acc.1 + target)
    })
}

/// The progress of `provinces` (as `db::formazione::provinces` reads them) grouped as asked.
/// The pace a Province is measured against is that of `programme`, the whole programme over
/// the same years (the region filter does not change it).
pub fn progress(
    targets: &FormazioneTargets,
    programme: &[ProvinceProgress],
    provinces: &[ProvinceProgress],
    group: Group,
    filter: &Filter,
    behind_only: bool,
) -> ProgressView {
    let (pace_credited, pace_target) = programme
        .iter()
        .map(|p| province_credit(targets, p))
        .fold((0, 0), |acc, (c, t)| (acc.0 + c, acc.1 + t));
    // Behind: credited/target < pace_credited/pace_target, compared without division.
    let behind = |p: &ProvinceProgress| {
        let (credited, target) = province_credit(targets, p);
        p.programme
            && target > 0
            && u128::from(credited) * u128::from(pace_target)
                < u128::from(pace_credited) * u128::from(target)
    };
    let mut total = Sum::new(targets);
    for province in provinces {
        total.add_province(targets, province, behind(province));
    }
    let (total_key, total_label) = match &filter.region {
        Some(region) => (region.clone(), region.clone()),
        None => (String::new(), "Programma".to_owned()),
    };
    let total_view = total.view(targets, total_key, total_label, String::new());
    let items = match group {
        Group::Province => provinces
            .iter()
            .filter(|p| !behind_only || behind(p))
            .map(|p| {
                let mut sum = Sum::new(targets);
                sum.add_province(targets, p, behind(p));
                sum.view(targets, p.code.clone(), p.name.clone(), p.region.clone())
            })
            .collect(),
        Group::Region => {
            let mut regions: std::collections::BTreeMap<&str, Sum> = Default::default();
            for p in provinces {
                regions
                    .entry(p.region.as_str())
                    .or_insert_with(|| Sum::new(targets))
                    .add_province(targets, p, behind(p));
            }
            regions
                .into_iter()
                .map(|(region, sum)| {
                    sum.view(targets, region.to_owned(), region.to_owned(), String::new())
                })
                .collect()
        }
        Group::Sector => {
            let mut codes: Vec<String> = targets.sectors.iter().map(|t| t.sector.clone()).collect();
            for p in provinces {
                for code in p.sectors.keys() {
                    if !codes.contains(code) {
                        codes.push(code.clone());
                    }
                }
            }
            codes
                .into_iter()
                .map(|code| {
                    let mut all = Tally::default();
                    let (mut trained, mut target, mut credited) = (0, 0, 0);
                    let (mut programme_provinces, mut publishing, mut behind_count) = (0, 0, 0);
                    for p in provinces {
                        if let Some(tally) = p.sectors.get(&code) {
                            all.add(tally);
                        }
                        let (t, c, own) = province_sector(targets, p, &code);
                        trained += t;
                        credited += c;
                        target += own;
                        programme_provinces += u64::from(p.programme);
                        publishing += u64::from(p.publishing);
                        behind_count += u64::from(p.programme && c < own);
                    }
                    GroupProgress {
                        label: sector_label(targets, &code),
                        key: code,
                        region: String::new(),
                        provinces: programme_provinces,
                        publishing,
                        behind: behind_count,
                        figures: figures(&all, trained, target, credited),
                        sectors: Vec::new(),
                    }
                })
                .collect()
        }
    };
    ProgressView {
        group: group.as_str().to_owned(),
        year: filter.year,
        region: filter.region.clone(),
        behind_only,
        targets_revision: targets.revision,
        total: total_view,
        items,
        attribution: ATTRIBUTION,
    }
}

impl ProgressView {
    /// The CSV file's name: `formazione-<group>`, then the filters.
    pub fn file_name(&self) -> String {
        let mut name = format!("formazione-{}", self.group);
        if self.behind_only {
            name.push_str("-in-ritardo");
        }
        if let Some(region) = &self.region {
            name.push('-');
            name.extend(region.chars().map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            }));
        }
        if let Some(year) = self.year {
            name.push_str(&format!("-{year}"));
        }
        name.push_str(".csv");
        name
    }

    /// The CSV form: one line per group (no total line, so that sums over the file are
    /// right), with Italian headers; Province and region lines end with the people trained
    /// and the target of each sector.
    pub fn to_csv(
        &self,
        targets: &FormazioneTargets,
        sep: Separator,
        bom: bool,
    ) -> Result<Vec<u8>, csv::Error> {
        let mut writer = CsvWriter::new(sep, bom);
        let group = Group::parse(&self.group).unwrap_or(Group::Province);
        let mut header: Vec<String> = vec![
            match group {
                Group::Province => "codice_provincia",
                Group::Region => "regione",
                Group::Sector => "settore",
            }
            .to_owned(),
            "nome".to_owned(),
        ];
        if group == Group::Province {
            header.push("regione".to_owned());
        }
        header.extend(
            [
                "province_programma",
                "province_che_pubblicano",
                "province_in_ritardo",
                "persone_formate",
                "obiettivo",
                "persone_conteggiate",
                "quota_obiettivo_percento",
                "edizioni",
                "sessioni",
                "ore_erogate",
                "ore_frequentate",
                "iscritti",
                "completati",
                "tasso_completamento_percento",
            ]
            .map(str::to_owned),
        );
        if group != Group::Sector {
            for t in &targets.sectors {
                header.push(format!("{}_persone_formate", t.sector));
                header.push(format!("{}_obiettivo", t.sector));
            }
        }
        writer.write(&header)?;
        let optional =
            |value: &Option<String>| value.as_deref().map(|v| sep.decimal(v)).unwrap_or_default();
        for item in &self.items {
            let f = &item.figures;
            let mut record = vec![item.key.clone(), item.label.clone()];
            if group == Group::Province {
                record.push(item.region.clone());
            }
            record.extend([
                item.provinces.to_string(),
                item.publishing.to_string(),
                item.behind.to_string(),
                f.people_trained.to_string(),
                f.target.to_string(),
                f.credited.to_string(),
                optional(&f.target_share),
                f.editions.to_string(),
                f.sessions.to_string(),
                sep.decimal(&f.hours_delivered),
                sep.decimal(&f.hours_attended),
                f.enrolled.to_string(),
                f.completed.to_string(),
                optional(&f.completion_rate),
            ]);
            for s in &item.sectors {
                record.push(s.people_trained.to_string());
                record.push(s.target.to_string());
            }
            writer.write(&record)?;
        }
        writer.finish()
    }
}

/// The query string of `GET /v1/formazione/progress` (parameters left empty count as absent,
/// as a form sends them).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Params {
    /// `province` (default), `region` or `sector`.
    pub group: Option<String>,
    /// Only the rows of this year (e.g. `2025`); every year of the programme without it.
    pub year: Option<String>,
    /// Only Provinces of this region, named as ISTAT names it (e.g. `Veneto`).
    pub region: Option<String>,
    /// `1`: only the Provinces behind the programme's pace (Province grouping only).
    pub behind: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
    /// CSV separator: `comma` (default) or `semicolon` (decimals then with a comma).
    pub sep: Option<String>,
    /// CSV only: `1` starts the file with the UTF-8 byte order mark (for Excel).
    pub bom: Option<String>,
}

/// A parsed, valid query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The grouping.
    pub group: Group,
    /// The filter.
    pub filter: Filter,
    /// Only the Provinces behind.
    pub behind_only: bool,
    /// The answer's format.
    pub format: Format,
}

/// Parses the year of a query: four digits.
pub fn parse_year(text: &str) -> Option<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|y| (1900..=2999).contains(y))
}

impl Params {
    /// Checks the parameters, with an Italian message naming the one that is wrong; whether
    /// the region exists is checked against the database by the caller.
    pub fn parse(&self) -> Result<Request, Problem> {
        let group = match present(self.group.as_ref()) {
            None => Group::Province,
            Some(text) => Group::parse(text).ok_or_else(|| {
                bad(format!(
                    "group «{text}» non è un raggruppamento: usare province, region oppure sector"
                ))
            })?,
        };
        let year = crate::query::year(self.year.as_ref())?;
        let behind_only = flag("behind", self.behind.as_ref())?;
        if behind_only && group != Group::Province {
            return Err(bad(
                "behind vale solo con group=province: le Province in ritardo sono un elenco di Province"
                    .to_owned(),
            ));
        }
        let format = query::format(self.format.as_ref(), self.sep.as_ref(), self.bom.as_ref())?;
        Ok(Request {
            group,
            filter: Filter {
                year,
                region: present(self.region.as_ref()).map(str::to_owned),
            },
            behind_only,
            format,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pico_protocol::targets::SectorTarget;

    fn targets() -> FormazioneTargets {
        let sector = |code: &str, people| SectorTarget {
            sector: code.into(),
            label: code.into(),
            people_per_province: people,
        };
        FormazioneTargets {
            v: 1,
            revision: 1,
            updated_at: pico_protocol::Timestamp::from_unix(0).unwrap(),
            provinces: 3,
            hours_per_person_year: 40,
            sectors: vec![sector("appalti", 5), sector("europa", 3)],
        }
    }

    fn province(code: &str, region: &str, trained: &[(&str, u64)]) -> ProvinceProgress {
        ProvinceProgress {
            code: code.into(),
            name: code.into(),
            region: region.into(),
            programme: true,
            publishing: !trained.is_empty(),
            sectors: trained
                .iter()
                .map(|(s, n)| {
                    (
                        (*s).to_owned(),
                        Tally {
                            people_trained: *n,
                            enrolled: *n + 1,
                            completed: *n,
                            minutes_scheduled: 90,
                            ..Tally::default()
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn surplus_is_not_credited_and_behind_is_below_the_programme_pace() {
        let targets = targets();
        // A: appalti 7 (credited 5), europa 0 → 5/8. B: appalti 2, europa 3 → 5/8.
        // C: nothing → 0/8. Programme: 10/24 = 41.67 %; only C is below.
        let all = vec![
            province("001", "Nord", &[("appalti", 7)]),
            province("002", "Nord", &[("appalti", 2), ("europa", 3)]),
            province("003", "Sud", &[]),
        ];
        let view = progress(
            &targets,
            &all,
            &all,
            Group::Province,
            &Filter::default(),
            false,
        );
        assert_eq!(view.total.figures.people_trained, 12);
        assert_eq!(view.total.figures.target, 24);
        assert_eq!(view.total.figures.credited, 10);
        assert_eq!(view.total.figures.target_share.as_deref(), Some("41.67"));
        assert_eq!(view.total.figures.hours_delivered, "4.50");
        assert_eq!(view.total.figures.completion_rate.as_deref(), Some("80.00"));
        assert_eq!(view.total.behind, 1);
        assert_eq!(
            view.items.iter().map(|i| i.behind).collect::<Vec<_>>(),
            [0, 0, 1]
        );
        let behind = progress(
            &targets,
            &all,
            &all,
            Group::Province,
            &Filter::default(),
            true,
        );
        assert_eq!(behind.items.len(), 1);
        assert_eq!(behind.items[0].key, "003");
        let regions = progress(
            &targets,
            &all,
            &all,
            Group::Region,
            &Filter::default(),
            false,
        );
        assert_eq!(
            regions
                .items
                .iter()
                .map(|i| (i.key.as_str(), i.figures.credited, i.figures.target))
                .collect::<Vec<_>>(),
            [("Nord", 10, 16), ("Sud", 0, 8)]
        );
        let sectors = progress(
            &targets,
            &all,
            &all,
            Group::Sector,
            &Filter::default(),
            false,
        );
        assert_eq!(
            sectors
                .items
                .iter()
                .map(|i| (
                    i.key.as_str(),
                    i.figures.people_trained,
                    i.figures.credited,
                    i.figures.target
                ))
                .collect::<Vec<_>>(),
            [("appalti", 9, 7, 15), ("europa", 3, 3, 9)]
        );
    }

    #[test]
    fn parameters_are_checked_in_italian() {
        let params = |group: Option<&str>, behind: Option<&str>, sep: Option<&str>| Params {
            group: group.map(str::to_owned),
            behind: behind.map(str::to_owned),
            sep: sep.map(str::to_owned),
            ..Params::default()
        };
        assert!(
            params(Some("anno"), None, None)
                .parse()
                .unwrap_err()
                .detail()
                .unwrap()
                .contains("raggruppamento")
        );
        assert!(params(Some("region"), Some("1"), None).parse().is_err());
        assert!(params(None, None, Some("semicolon")).parse().is_err());
        assert!(params(None, Some("1"), None).parse().unwrap().behind_only);
        assert_eq!(hours(61), "1.02");
    }
}
