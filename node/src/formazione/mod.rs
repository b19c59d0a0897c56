//! Formazione: the training the Province offers its own staff and the staff of its Comuni.
//! A catalogue of courses (sector, competence, audience, completion rule) with editions made
//! of sessions; the staff list each Comune keeps of its own people; enrolments with the
//! Province's approval where a course asks for it, seats and a first-come waiting list;
//! attendance per session (the register, or a videoconference tool's report) from which the
//! hours attended and the completion are computed; reports of hours and people trained.
//!
//! `mod.rs` holds the vocabulary, the enrolments' lifecycle and the arithmetic of hours and
//! completion; `ops.rs` the operations shared by `api.rs` and `pages.rs`; `attendance.rs` the
//! videoconference report; `reports.rs` the figures; SQL is in `db.rs`.

pub mod api;
pub mod attendance;
pub mod catalogue;
pub mod certificate_pages;
pub mod certificates;
pub mod db;
pub mod edit_pages;
pub mod edition_pages;
pub mod editions;
pub mod moodle;
pub mod moodle_pages;
pub mod national;
pub mod ops;
pub mod pages;
pub mod policy;
pub mod reports;
pub mod targets;

use crate::labels::labelled_enum;
use crate::lifecycle::{BY_POLICY, Machine, Move, Noun, Tables};
use crate::modules::{Audience, DerivedDataset, HomeCard, Link, ModuleKit, NavEntry};
use crate::roles::{Module, Role};

labelled_enum! {
    /// The programme's training sector of a course.
    pub enum Sector as "sector" {
        /// Public procurement.
        Appalti = "appalti" => "Appalti",
        /// EU funding and policies.
        Europa = "europa" => "Europa",
        /// Innovation and digital transformation.
        Innovazione = "innovazione" => "Innovazione e Digitalizzazione",
        /// Personnel policies.
        Personale = "personale" => "Politiche del personale",
        /// Anything else.
        Altro = "altro" => "Altro",
    }
}

labelled_enum! {
    /// How a course is delivered.
    pub enum Mode as "mode" {
        /// In a classroom.
        Presence = "presence" => "In presenza",
        /// Live online (videoconference).
        Online = "online" => "Online in diretta",
        /// Self-paced e-learning.
        Elearning = "elearning" => "E-learning in autoapprendimento",
    }
}

labelled_enum! {
    /// The five areas of the Syllabus "Competenze digitali per la PA" of the Department of
    /// Public Function.
    pub enum SyllabusArea as "syllabus area" {
        /// Data, information and digital documents.
        Dati = "dati" => "Dati, informazioni e documenti informatici",
        /// Communication and sharing.
        Comunicazione = "comunicazione" => "Comunicazione e condivisione",
        /// Security.
        Sicurezza = "sicurezza" => "Sicurezza",
        /// Online services.
        Servizi = "servizi" => "Servizi online",
        /// Digital transformation.
        Trasformazione = "trasformazione" => "Trasformazione digitale",
    }
}

labelled_enum! {
    /// The Syllabus level of a digital-skills course.
    #[derive(PartialOrd, Ord)]
    pub enum Level as "level" {
        /// Base.
        Base = "base" => "Base",
        /// Intermediate.
        Intermedio = "intermedio" => "Intermedio",
        /// Advanced.
        Avanzato = "avanzato" => "Avanzato",
    }
}

labelled_enum! {
    /// Whose staff may enrol in a course.
    pub enum CourseAudience as "audience" {
        /// The Province's staff only.
        Province = "province" => "Personale della Provincia",
        /// The Comuni's staff only.
        Comuni = "comuni" => "Personale dei Comuni",
        /// Both.
        Both = "both" => "Personale della Provincia e dei Comuni",
    }
}

impl CourseAudience {
    /// Whether a person of the Province (`comune` none) or of Comune `comune` may enrol.
    pub fn admits(self, comune: Option<&str>) -> bool {
        match self {
            CourseAudience::Province => comune.is_none(),
            CourseAudience::Comuni => comune.is_some(),
            CourseAudience::Both => true,
        }
    }
}

labelled_enum! {
    /// Where an enrolment is; its moves are [`ENROLMENTS`].
    pub enum EnrolmentState as "enrolment state" {
        /// Asked by a Comune, waiting for the Province's approval.
        Pending = "pending" => "In attesa di approvazione",
        /// Admitted but every seat is taken: on the waiting list, first come first served.
        Waiting = "waiting" => "In lista d'attesa",
        /// Holds a seat.
        Enrolled = "enrolled" => "Iscritto",
        /// Not approved by the Province. Final.
        Rejected = "rejected" => "Respinta",
        /// Withdrawn (the seat, if any, goes to the first waiting). Final.
        Withdrawn = "withdrawn" => "Ritirata",
    }
}

/// The enrolments' audited lifecycle. Who moves is decided by [`policy::enrolment_move`]:
/// the Province's training office approves, rejects and promotes; the office and the
/// person's own Comune withdraw. Approval reaches `enrolled` when a seat is free and
/// `waiting` otherwise (`ops` chooses); a withdrawal from `enrolled` promotes the first
/// waiting in the same transaction.
pub const ENROLMENTS: Machine<EnrolmentState> = {
    use EnrolmentState::{Enrolled, Pending, Rejected, Waiting, Withdrawn};
    Machine {
        noun: Noun::feminine("iscrizione"),
        tables: Tables {
            records: "formazione_enrolments",
            id_column: "id",
            state_column: "state",
            history: "formazione_enrolment_transitions",
            history_record_column: "enrolment_id",
        },
        audit_action: "formazione.enrolment.transition",
        audit_resource: "formazione_enrolment",
        moves: &[
            Move {
                from: &[Pending],
                to: Enrolled,
                by: BY_POLICY,
            },
            Move {
                from: &[Pending],
                to: Waiting,
                by: BY_POLICY,
            },
            Move {
                from: &[Pending],
                to: Rejected,
                by: BY_POLICY,
            },
            Move {
                from: &[Waiting],
                to: Enrolled,
                by: BY_POLICY,
            },
            Move {
                from: &[Pending, Waiting, Enrolled],
                to: Withdrawn,
                by: BY_POLICY,
            },
        ],
        policy: Some(policy::enrolment_move),
    }
};

/// Minutes of `[starts, ends)` (Unix seconds) covered by the union of `intervals`, each
/// clipped to the session: a person who joins twice is not counted twice, and time before the
/// start or after the end does not count. Rounded down to the whole minute.
pub fn minutes_within(starts: i64, ends: i64, intervals: &[(i64, i64)]) -> i64 {
    let mut clipped: Vec<(i64, i64)> = intervals
        .iter()
        .map(|&(from, to)| (from.max(starts), to.min(ends)))
        .filter(|(from, to)| to > from)
        .collect();
    clipped.sort_unstable();
    let mut seconds = 0;
    let mut current: Option<(i64, i64)> = None;
    for (from, to) in clipped {
        current = match current {
            Some((a, b)) if from <= b => Some((a, b.max(to))),
            Some((a, b)) => {
                seconds += b - a;
                Some((from, to))
            }
            None => Some((from, to)),
        };
    }
    if let Some((a, b)) = current {
        seconds += b - a;
    }
    seconds / 60
}

/// A course's completion rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletionRule {
    /// The least share of the edition's minutes to attend, percent (1–100).
    pub min_attendance_percent: i64,
    /// The least final-test score (0–100), if the course has a test.
    pub min_score: Option<i64>,
}

impl CompletionRule {
    /// Whether a person who attended `attended` of the edition's `total` minutes and scored
    /// `score` completed the course: attended × 100 ≥ total × share (in integers, so 75 % of
    /// 6 h is exactly 270 minutes) and, if the course has a test, a score at least its least.
    /// An edition without sessions is completed by nobody.
    pub fn is_met(self, attended: i64, total: i64, score: Option<i64>) -> bool {
        let hours_met = total > 0 && attended * 100 >= total * self.min_attendance_percent;
        let score_met = self
            .min_score
            .is_none_or(|least| score.is_some_and(|score| score >= least));
        hours_met && score_met
    }
}

/// Minutes as the hours people read: `7`, `1,5`, `2,25` (hours, at most two decimals,
/// rounded down to the hundredth).
pub fn hours_text(minutes: i64) -> String {
    let hundredths = minutes * 100 / 60;
    let (whole, cents) = (hundredths / 100, hundredths % 100);
    match cents {
        0 => pico_service::format::integer(whole),
        c if c % 10 == 0 => format!("{},{}", pico_service::format::integer(whole), c / 10),
        c => format!("{},{c:02}", pico_service::format::integer(whole)),
    }
}

/// The yearly training hours each employee should reach (the Department of Public Function's
/// directive of 14 January 2025).
pub const YEARLY_HOURS: i64 = 40;

/// The Formazione's part of the OpenAPI document.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(paths(
    api::list_courses,
    api::create_course,
    api::get_course,
    api::update_course,
    api::create_edition,
    api::get_edition,
    api::list_staff,
    api::create_staff,
    api::get_staff,
    api::update_staff,
    api::delete_staff,
    api::create_enrolment,
    api::list_enrolments,
    api::approve_enrolment,
    api::reject_enrolment,
    api::withdraw_enrolment,
    api::update_score,
    api::get_register,
    api::update_register,
    api::import_attendance,
    api::get_reports,
    api::issue_certificate,
    api::download_certificate,
    api::get_certificate,
    api::revoke_certificate,
    api::import_moodle,
    api::update_edition,
    api::delete_edition,
    api::delete_session,
    api::enrol_self,
))]
pub struct FormazioneApi;

/// The Formazione in the module registry.
pub const KIT: ModuleKit = ModuleKit {
    operator: Some((Module::Formazione, "Operatore Formazione")),
    api: api::router,
    pages: pages::router,
    openapi: <FormazioneApi as utoipa::OpenApi>::openapi,
    nav: Some(NavEntry {
        label: "Formazione",
        path: "/formazione",
        covers_subpaths: true,
        audience: Audience::SignedIn(policy::sees_catalogue),
    }),
    dashboard: dashboard_links,
    cards: Some(pages::cards),
    home: Some(HomeCard {
        title: "Formazione",
        text: "Corsi per il personale della Provincia e dei Comuni: iscrizioni, presenze, ore di formazione e completamento.",
        href: "/formazione",
    }),
    datasets: &[
        DerivedDataset {
            name: national::DATASET,
            module: "Formazione",
            materialise: national::materialise,
        },
        DerivedDataset {
            name: catalogue::DATASET,
            module: "Formazione",
            materialise: catalogue::materialise,
        },
    ],
    // Pulls the hub's signed targets; a pull is one verified write, redone if aborted.
    background: targets::spawn,
    ..ModuleKit::new("formazione")
};

fn dashboard_links(role: &Role) -> Vec<Link> {
    match role {
        Role::Admin | Role::Operator(Module::Formazione) => vec![
            Link::new("Catalogo dei corsi", "/formazione"),
            Link::new("Personale in formazione", "/formazione/personale"),
            Link::new("Rapporti della formazione", "/formazione/rapporti"),
            Link::new("Importa i completamenti da Moodle", "/formazione/moodle"),
        ],
        Role::Operator(_) => vec![Link::new("Catalogo dei corsi", "/formazione")],
        Role::Comune(_) => vec![
            Link::new("Catalogo dei corsi", "/formazione"),
            Link::new(
                "Personale del Comune in formazione",
                "/formazione/personale",
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600;

    #[test]
    fn minutes_merge_rejoins_and_clip_to_the_session() {
        // Session 09:00–12:00 (as seconds from 0).
        let (s, e) = (9 * H, 12 * H);
        // Joined 08:50 (before the start: counts from 09:00), left 10:30, back 10:40–12:15.
        assert_eq!(
            minutes_within(
                s,
                e,
                &[
                    (8 * H + 50 * 60, 10 * H + 30 * 60),
                    (10 * H + 40 * 60, 12 * H + 15 * 60)
                ]
            ),
            90 + 80
        );
        // Two overlapping connections (phone and PC) count once: 09:00–11:00 ∪ 10:00–11:30.
        assert_eq!(
            minutes_within(s, e, &[(9 * H, 11 * H), (10 * H, 11 * H + 30 * 60)]),
            150
        );
        // Entirely outside.
        assert_eq!(minutes_within(s, e, &[(13 * H, 14 * H)]), 0);
        // Seconds are rounded down: 59 s is no minute.
        assert_eq!(minutes_within(s, e, &[(9 * H, 9 * H + 119)]), 1);
    }

    #[test]
    fn completion_rule_by_hand() {
        let rule = CompletionRule {
            min_attendance_percent: 75,
            min_score: None,
        };
        // 75 % of 6 hours (360 min) is 270 minutes exactly.
        assert!(rule.is_met(270, 360, None));
        assert!(!rule.is_met(269, 360, None));
        // Without sessions nobody completes.
        assert!(!rule.is_met(0, 0, None));
        let tested = CompletionRule {
            min_attendance_percent: 80,
            min_score: Some(60),
        };
        // 80 % of 7,5 hours (450 min) is 360 minutes; the test needs 60.
        assert!(tested.is_met(360, 450, Some(60)));
        assert!(!tested.is_met(360, 450, Some(59)));
        assert!(!tested.is_met(360, 450, None));
        assert!(!tested.is_met(359, 450, Some(100)));
        let full = CompletionRule {
            min_attendance_percent: 100,
            min_score: Some(0),
        };
        assert!(full.is_met(450, 450, Some(0)));
        assert!(!full.is_met(449, 450, Some(100)));
    }

    #[test]
    fn hours_as_people_read_them() {
        assert_eq!(hours_text(420), "7");
        assert_eq!(hours_text(90), "1,5");
        assert_eq!(hours_text(135), "2,25");
        assert_eq!(hours_text(20), "0,33");
        assert_eq!(hours_text(60 * 1500), "1.500");
    }

    #[test]
    fn audience_admits() {
        assert!(CourseAudience::Province.admits(None));
        assert!(!CourseAudience::Province.admits(Some("026086")));
        assert!(CourseAudience::Comuni.admits(Some("026086")));
        assert!(!CourseAudience::Comuni.admits(None));
        assert!(CourseAudience::Both.admits(None));
    }
}
