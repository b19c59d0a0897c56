//! SIT (Servizi Innovativi Territoriali): the catalogue of shared digital services the
//! Province offers its Comuni (each change kept as a version, published as CPSV-AP_IT RDF),
//! the Comuni's subscriptions with their audited lifecycle, the requests made inside a
//! subscription measured against the service's promised levels with the Help Desk's clock,
//! and each Comune's digital picture (national platforms and PNRR measures) with the
//! Province's coverage report.
//!
//! `mod.rs` holds the vocabulary and the subscriptions' machine; `population.rs` the ISTAT
//! resident population and the fee it sets; `ops.rs` the operations shared by `api.rs` and
//! `pages.rs`; `rdf.rs` the Turtle and JSON-LD writers; `reports.rs` the coverage; SQL is in
//! `db.rs`.

pub mod api;
pub mod db;
pub mod national;
pub mod ops;
pub mod pages;
pub mod policy;
pub mod population;
pub mod rdf;
pub mod reports;

use crate::labels::labelled_enum;
use crate::lifecycle::{Machine, Move, Noun, Tables, Who};
use crate::modules::{
    Audience as NavAudience, DerivedDataset, HomeCard, Link, ModuleKit, NavEntry,
};
use crate::roles::{Module, Role};

labelled_enum! {
    /// What a catalogue service is about.
    pub enum Category as "category" {
        /// An associated office for the digital transition (RTD).
        DigitalOffice = "digital_office" => "Ufficio associato per la transizione digitale",
        /// SPID and CIE adoption.
        Identity = "identity" => "Identità digitale (SPID, CIE)",
        /// pagoPA and App IO.
        Payments = "payments" => "Pagamenti e servizi in app (pagoPA, App IO)",
        /// The national registry of residents.
        Anpr = "anpr" => "Anagrafe nazionale (ANPR)",
        /// The national data platform.
        Interoperability = "interoperability" => "Interoperabilità (PDND)",
        /// Moving to qualified cloud services.
        Cloud = "cloud" => "Migrazione al cloud",
        /// Cybersecurity.
        Cybersecurity = "cybersecurity" => "Sicurezza informatica",
        /// Data protection (DPO).
        Privacy = "privacy" => "Protezione dei dati personali",
        /// A territorial information system.
        Gis = "gis" => "Sistema informativo territoriale (GIS)",
        /// Shared software.
        Software = "software" => "Software condiviso",
        /// Anything else.
        Other = "other" => "Altro",
    }
}

labelled_enum! {
    /// A channel through which a service is provided; each has its concept in the channel
    /// vocabulary of schema.gov.it ([`Channel::notation`]).
    pub enum Channel as "channel" {
        /// The office's desk.
        Desk = "desk" => "Sportello",
        /// An online application.
        Online = "online" => "Applicazione online",
        /// Telephone.
        Phone = "phone" => "Telefono",
        /// Certified e-mail.
        Pec = "pec" => "PEC",
        /// E-mail.
        Email = "email" => "Email",
        /// A mobile app.
        App = "app" => "App mobile",
        /// Video conference.
        Video = "video" => "Videoconferenza",
    }
}

impl Channel {
    /// The concept's notation in the channel vocabulary (the last part of its IRI).
    pub fn notation(self) -> &'static str {
        match self {
            Channel::Desk => "0111",
            Channel::Online => "02",
            Channel::Phone => "031",
            Channel::Pec => "041",
            Channel::Email => "042",
            Channel::App => "051",
            Channel::Video => "054",
        }
    }
}

labelled_enum! {
    /// Which Comuni may use a service.
    pub enum Audience as "audience" {
        /// Every Comune of the Province.
        All = "all" => "Tutti i Comuni",
        /// Comuni with fewer residents than the service's threshold.
        UnderThreshold = "under_threshold" => "Comuni sotto una soglia di popolazione",
    }
}

labelled_enum! {
    /// How a service is paid for.
    pub enum CostModel as "cost model" {
        /// No fee.
        Free = "free" => "Gratuito",
        /// A fixed yearly fee.
        Fixed = "fixed" => "Quota fissa annua",
        /// A yearly fee per resident (ISTAT resident population).
        PerInhabitant = "per_inhabitant" => "Quota annua per abitante",
    }
}

/// The subject matters of public services (schema.gov.it controlled vocabulary
/// `public-services-subject-matters`): the notation and the Italian label of each.
pub const THEMES: [(u8, &str); 15] = [
    (1, "Educazione e formazione"),
    (2, "Salute, benessere e assistenza"),
    (3, "Vita lavorativa"),
    (4, "Mobilità e trasporti"),
    (5, "Catasto e urbanistica"),
    (6, "Anagrafe e stato civile"),
    (7, "Turismo"),
    (8, "Giustizia e sicurezza pubblica"),
    (9, "Tributi, finanze e contravvenzioni"),
    (10, "Cultura e tempo libero"),
    (11, "Ambiente"),
    (12, "Impresa e commercio"),
    (13, "Autorizzazioni"),
    (14, "Appalti pubblici"),
    (15, "Agricoltura e pesca"),
];

/// The label of subject matter `theme`.
pub fn theme_label(theme: u8) -> &'static str {
    THEMES
        .iter()
        .find(|(code, _)| *code == theme)
        .map_or("", |(_, label)| label)
}

labelled_enum! {
    /// Where a subscription is; its moves are [`SUBSCRIPTIONS`].
    pub enum SubscriptionState as "subscription state" {
        /// Asked for by the Comune, waiting for the Province.
        Requested = "requested" => "Richiesta",
        /// Accepted: the service is provided.
        Active = "active" => "Attiva",
        /// Paused by the Province.
        Suspended = "suspended" => "Sospesa",
        /// Over. Final.
        Ended = "ended" => "Conclusa",
        /// Refused by the Province, with its reasons. Final.
        Declined = "declined" => "Respinta",
    }
}

impl SubscriptionState {
    /// Whether the subscription still binds (a Comune cannot ask again while it does).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            SubscriptionState::Requested | SubscriptionState::Active | SubscriptionState::Suspended
        )
    }
}

labelled_enum! {
    /// What a request inside a subscription asks for.
    pub enum RequestKind as "request kind" {
        /// Switching the service on (first set-up).
        Activation = "activation" => "Attivazione",
        /// Help or a fix while the service runs.
        Intervention = "intervention" => "Intervento",
    }
}

labelled_enum! {
    /// A national platform in a Comune's digital picture.
    pub enum Platform as "platform" {
        /// Sistema Pubblico di Identità Digitale.
        Spid = "spid" => "SPID",
        /// Carta d'Identità Elettronica (login with CIE).
        Cie = "cie" => "CIE",
        /// Payments to the PA.
        PagoPa = "pagopa" => "pagoPA",
        /// The public services' app.
        AppIo = "app_io" => "App IO",
        /// The national registry of residents.
        Anpr = "anpr" => "ANPR",
        /// The national digital data platform.
        Pdnd = "pdnd" => "PDND",
        /// Qualified cloud services (ACN).
        Cloud = "cloud" => "Cloud qualificato",
    }
}

labelled_enum! {
    /// A PNRR "PA digitale 2026" measure (Mission 1, Component 1).
    pub enum Measure as "measure" {
        /// 1.2 Cloud enablement of local PAs.
        Cloud = "1.2" => "1.2 Abilitazione al cloud",
        /// 1.4.1 Citizen experience (websites and online services).
        CitizenExperience = "1.4.1" => "1.4.1 Esperienza del cittadino nei servizi pubblici",
        /// 1.4.3 pagoPA and App IO adoption.
        PagoPaAppIo = "1.4.3" => "1.4.3 Adozione di pagoPA e App IO",
        /// 1.4.4 SPID and CIE adoption.
        SpidCie = "1.4.4" => "1.4.4 Adozione di SPID e CIE",
        /// 1.4.5 The digital notifications platform.
        Notifications = "1.4.5" => "1.4.5 Piattaforma notifiche digitali",
    }
}

labelled_enum! {
    /// Where a Comune stands on a PNRR measure.
    pub enum MeasureStatus as "measure status" {
        /// Applied for.
        Applied = "applied" => "Candidata",
        /// Funded.
        Obtained = "obtained" => "Finanziata",
    }
}

const STAFF: &[Who] = &[Who::Staff(Module::Sit)];
const STAFF_AND_COMUNE: &[Who] = &[Who::Staff(Module::Sit), Who::OwningComune];

/// The subscriptions' audited lifecycle: the Comune asks, the SIT office accepts (with the
/// agreement and its start date) or declines with reasons, suspends and resumes; the office
/// or the Comune ends it.
pub const SUBSCRIPTIONS: Machine<SubscriptionState> = {
    use SubscriptionState::{Active, Declined, Ended, Requested, Suspended};
    Machine {
        noun: Noun::feminine("adesione"),
        tables: Tables {
            records: "sit_subscriptions",
            id_column: "id",
            state_column: "state",
            history: "sit_subscription_transitions",
            history_record_column: "subscription_id",
        },
        audit_action: "sit.subscription.transition",
        audit_resource: "sit_subscription",
        moves: &[
            Move {
                from: &[Requested],
                to: Active,
                by: STAFF,
            },
            Move {
                from: &[Requested],
                to: Declined,
                by: STAFF,
            },
            Move {
                from: &[Active],
                to: Suspended,
                by: STAFF,
            },
            Move {
                from: &[Suspended],
                to: Active,
                by: STAFF,
            },
            Move {
                from: &[Active, Suspended],
                to: Ended,
                by: STAFF_AND_COMUNE,
            },
        ],
        policy: None,
    }
};

/// The SIT's part of the OpenAPI document.
#[derive(Debug, utoipa::OpenApi)]
#[openapi(paths(
    api::list_services,
    api::create_service,
    api::get_service,
    api::update_service,
    api::get_service_version,
    api::withdraw_service,
    api::get_service_fee,
    api::list_subscriptions,
    api::create_subscription,
    api::get_subscription,
    api::create_subscription_transition,
    api::list_subscription_requests,
    api::create_subscription_request,
    api::get_digital_picture,
    api::update_digital_picture,
    api::get_coverage,
))]
pub struct SitApi;

/// The SIT in the module registry.
pub const KIT: ModuleKit = ModuleKit {
    operator: Some((Module::Sit, "Operatore SIT")),
    api: api::router,
    pages: pages::router,
    openapi: <SitApi as utoipa::OpenApi>::openapi,
    nav: Some(NavEntry {
        label: "Servizi SIT",
        path: "/sit",
        covers_subpaths: true,
        audience: NavAudience::SignedIn(policy::sees_sit),
    }),
    dashboard: dashboard_links,
    cards: Some(pages::cards),
    home: Some(HomeCard {
        title: "Servizi innovativi (SIT)",
        text: "Il catalogo dei servizi digitali condivisi che la Provincia offre ai Comuni, con livelli di servizio e adesioni.",
        href: "/sit",
    }),
    datasets: &[
        DerivedDataset {
            name: national::SERVICES,
            module: "SIT",
            materialise: national::materialise_services,
        },
        DerivedDataset {
            name: national::PICTURES,
            module: "SIT",
            materialise: national::materialise_pictures,
        },
    ],
    ..ModuleKit::new("sit")
};

fn dashboard_links(role: &Role) -> Vec<Link> {
    match role {
        Role::Admin | Role::Operator(Module::Sit) => vec![
            Link::new("Catalogo dei servizi SIT", "/sit"),
            Link::new("Adesioni dei Comuni", "/sit/adesioni"),
            Link::new("Copertura delle piattaforme nazionali", "/sit/copertura"),
        ],
        Role::Operator(_) => vec![],
        Role::Comune(_) => vec![
            Link::new("Catalogo dei servizi SIT", "/sit"),
            Link::new("Le adesioni del Comune", "/sit/adesioni"),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn themes_are_the_vocabulary_in_order() {
        for (index, (code, label)) in THEMES.iter().enumerate() {
            assert_eq!(usize::from(*code), index + 1);
            assert!(!label.is_empty());
        }
        assert_eq!(theme_label(6), "Anagrafe e stato civile");
        assert_eq!(theme_label(16), "");
    }

    #[test]
    fn open_states_are_the_binding_ones() {
        let open: Vec<_> = SubscriptionState::ALL
            .into_iter()
            .filter(|s| s.is_open())
            .collect();
        assert_eq!(
            open,
            [
                SubscriptionState::Requested,
                SubscriptionState::Active,
                SubscriptionState::Suspended
            ]
        );
        assert!(SUBSCRIPTIONS.is_final(SubscriptionState::Ended));
        assert!(SUBSCRIPTIONS.is_final(SubscriptionState::Declined));
    }
}
