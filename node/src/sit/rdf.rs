//! The catalogue as CPSV-AP_IT RDF (the Italian application profile of the Core Public
//! Service Vocabulary, `https://w3id.org/italia/onto/CPSV/`): each service a
//! `cpsvapit:PublicService` with its channels, cost, contact point, inputs, outputs,
//! processing time, status and subject matter (the schema.gov.it vocabulary). One list of
//! triples is built, then written as Turtle or as JSON-LD, so the two serialisations say the
//! same thing.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::sit::CostModel;
use crate::sit::db::ServiceRow;

const CPSV: &str = "https://w3id.org/italia/onto/CPSV/";
const L0: &str = "https://w3id.org/italia/onto/l0/";
const SM: &str = "https://w3id.org/italia/onto/SM/";
const MU: &str = "https://w3id.org/italia/onto/MU/";
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const RDFS: &str = "http://www.w3.org/2000/01/rdf-schema#";
const XSD: &str = "http://www.w3.org/2001/XMLSchema#";
const THEMES: &str = "https://w3id.org/italia/controlled-vocabulary/classifications-for-public-services/public-services-subject-matters/";
const CHANNELS: &str =
    "https://w3id.org/italia/controlled-vocabulary/classifications-for-public-services/channel/";

/// The prefixes both writers use, in the order Turtle declares them.
const PREFIXES: [(&str, &str); 7] = [
    ("cpsvapit", CPSV),
    ("l0", L0),
    ("sm", SM),
    ("mu", MU),
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("rdfs", RDFS),
    ("xsd", XSD),
];

/// The object of a triple.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Object {
    /// A resource.
    Iri(String),
    /// Italian text.
    Text(String),
    /// A literal of a datatype (full IRI).
    Typed(String, &'static str),
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Triple {
    /// Subject IRI.
    pub subject: String,
    /// Predicate IRI.
    pub predicate: String,
    /// Object.
    pub object: Object,
}

struct Graph(Vec<Triple>);

impl Graph {
    fn add(&mut self, subject: &str, predicate: String, object: Object) {
        self.0.push(Triple {
            subject: subject.to_owned(),
            predicate,
            object,
        });
    }

    fn a(&mut self, subject: &str, class: String) {
        self.add(subject, RDF_TYPE.to_owned(), Object::Iri(class));
    }
}

fn p(ns: &str, local: &str) -> String {
    format!("{ns}{local}")
}

fn text(value: &str) -> Object {
    Object::Text(value.to_owned())
}

/// An IRI with the characters Turtle's `IRIREF` forbids percent-encoded (addresses are
/// checked when written, this keeps the output well-formed whatever they hold).
pub fn safe_iri(iri: &str) -> String {
    let mut out = String::with_capacity(iri.len());
    for c in iri.chars() {
        if c.is_control() || c == ' ' || "<>\"{}|^`\\".contains(c) {
            let mut buffer = [0u8; 4];
            for byte in c.encode_utf8(&mut buffer).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The IRI of service `code` on the node at `base` (its public page).
pub fn service_iri(base: &str, code: &str) -> String {
    format!("{}/sit/servizi/{code}", base.trim_end_matches('/'))
}

fn describe(graph: &mut Graph, base: &str, row: &ServiceRow) {
    let service = service_iri(base, &row.code);
    let record = &row.record;
    let s = service.as_str();
    graph.a(s, p(CPSV, "PublicService"));
    graph.add(s, p(L0, "identifier"), text(&row.code));
    graph.add(s, p(L0, "name"), text(&record.name));
    graph.add(s, p(L0, "description"), text(&record.description));
    graph.add(
        s,
        p(CPSV, "serviceTheme"),
        Object::Iri(format!("{THEMES}{}", record.theme)),
    );
    graph.add(s, p(CPSV, "serviceKeyword"), text(record.category.label()));
    graph.add(
        s,
        p(CPSV, "hasServiceStatus"),
        Object::Iri(p(
            CPSV,
            if row.withdrawn_at.is_some() {
                "NonActive"
            } else {
                "Active"
            },
        )),
    );
    for channel in &record.channels {
        let node = format!("{service}#canale-{}", channel.as_str());
        graph.add(s, p(CPSV, "hasChannel"), Object::Iri(node.clone()));
        graph.a(&node, p(CPSV, "Channel"));
        graph.add(&node, p(L0, "name"), text(channel.label()));
        graph.add(
            &node,
            p(CPSV, "hasChannelType"),
            Object::Iri(format!("{CHANNELS}{}", channel.notation())),
        );
    }
    let cost = format!("{service}#costo");
    graph.add(s, p(CPSV, "hasCost"), Object::Iri(cost.clone()));
    let (class, description) = match record.cost_model {
        CostModel::Free => ("Cost", "Servizio gratuito".to_owned()),
        CostModel::Fixed => (
            "FixedCost",
            format!(
                "Quota fissa annua di {}",
                pico_service::format::euro_cents(record.fee_cents)
            ),
        ),
        CostModel::PerInhabitant => (
            "VariableCost",
            format!(
                "Quota annua di {} per abitante residente (popolazione ISTAT al 1° gennaio)",
                pico_service::format::euro_cents(record.fee_cents)
            ),
        ),
    };
    graph.a(&cost, p(CPSV, class));
    graph.add(&cost, p(L0, "description"), text(&description));
    if record.cost_model != CostModel::Free {
        graph.add(
            &cost,
            p(MU, "value"),
            Object::Typed(crate::sit::ops::decimal(record.fee_cents), "decimal"),
        );
    }
    let time = format!("{service}#tempo-risoluzione");
    graph.add(s, p(CPSV, "hasProcessingTime"), Object::Iri(time.clone()));
    graph.a(&time, p(CPSV, "ServiceProcessingTime"));
    graph.add(
        &time,
        p(MU, "value"),
        Object::Typed(record.resolution_hours.to_string(), "integer"),
    );
    graph.add(
        &time,
        p(MU, "hasMeasurementUnit"),
        Object::Iri(p(CPSV, "Hour")),
    );
    graph.add(
        &time,
        p(L0, "description"),
        text(&format!(
            "Prima risposta entro {} ore, risoluzione entro {} ore, disponibilità {} %",
            record.first_answer_hours,
            record.resolution_hours,
            crate::sit::ops::percent_text(record.availability_bp).replace('.', ",")
        )),
    );
    let contact = format!("{service}#contatto");
    graph.add(
        s,
        p(SM, "hasOnlineContactPoint"),
        Object::Iri(contact.clone()),
    );
    graph.a(&contact, p(SM, "OnlineContactPoint"));
    graph.add(&contact, p(L0, "name"), text(&record.contact_office));
    let email = format!("{service}#email");
    graph.add(&contact, p(SM, "hasEmail"), Object::Iri(email.clone()));
    graph.a(&email, p(SM, "Email"));
    graph.add(
        &email,
        p(SM, "emailAddress"),
        Object::Typed(format!("mailto:{}", record.contact_email), "anyURI"),
    );
    if !record.contact_phone.is_empty() {
        let phone = format!("{service}#telefono");
        graph.add(&contact, p(SM, "hasTelephone"), Object::Iri(phone.clone()));
        graph.a(&phone, p(SM, "Telephone"));
        graph.add(
            &phone,
            p(SM, "telephoneNumber"),
            text(&record.contact_phone),
        );
    }
    for (index, input) in record.inputs.iter().enumerate() {
        let node = format!("{service}#input-{}", index + 1);
        graph.add(s, p(CPSV, "hasInput"), Object::Iri(node.clone()));
        graph.a(&node, p(CPSV, "Input"));
        graph.add(&node, p(L0, "name"), text(input));
    }
    for (index, output) in record.outputs.iter().enumerate() {
        let node = format!("{service}#output-{}", index + 1);
        graph.add(s, p(CPSV, "producesOutput"), Object::Iri(node.clone()));
        graph.a(&node, p(CPSV, "Output"));
        graph.add(&node, p(L0, "name"), text(output));
    }
    for document in &record.documents {
        graph.add(
            s,
            p(CPSV, "referenceDoc"),
            Object::Typed(document.url.clone(), "anyURI"),
        );
    }
    if !record.publiccode_url.is_empty() {
        graph.add(
            s,
            p(RDFS, "seeAlso"),
            Object::Iri(safe_iri(&record.publiccode_url)),
        );
    }
}

/// The triples describing `services`, grouped by subject in the order written.
pub fn triples(base: &str, services: &[ServiceRow]) -> Vec<Triple> {
    let mut graph = Graph(Vec::new());
    for row in services {
        describe(&mut graph, base, row);
    }
    graph.0
}

/// Escapes a Turtle string literal written between double quotes.
pub fn turtle_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn turtle_term(iri: &str) -> String {
    for (prefix, ns) in PREFIXES {
        if let Some(local) = iri.strip_prefix(ns)
            && !local.is_empty()
            && local.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return format!("{prefix}:{local}");
        }
    }
    format!("<{}>", safe_iri(iri))
}

fn turtle_object(object: &Object) -> String {
    match object {
        Object::Iri(iri) => turtle_term(iri),
        Object::Text(value) => format!("{}@it", turtle_string(value)),
        Object::Typed(value, datatype) => format!("{}^^xsd:{datatype}", turtle_string(value)),
    }
}

/// The triples as Turtle.
pub fn turtle(triples: &[Triple]) -> String {
    let mut out = String::new();
    for (prefix, ns) in PREFIXES {
        out.push_str(&format!("@prefix {prefix}: <{ns}> .\n"));
    }
    let mut current: Option<&str> = None;
    for triple in triples {
        let predicate = if triple.predicate == RDF_TYPE {
            "a".to_owned()
        } else {
            turtle_term(&triple.predicate)
        };
        if current == Some(triple.subject.as_str()) {
            out.push_str(" ;\n    ");
        } else {
            if current.is_some() {
                out.push_str(" .\n");
            }
            out.push_str(&format!("\n{}\n    ", turtle_term(&triple.subject)));
            current = Some(&triple.subject);
        }
        out.push_str(&format!("{predicate} {}", turtle_object(&triple.object)));
    }
    if current.is_some() {
        out.push_str(" .\n");
    }
    out
}

/// The triples as JSON-LD (expanded IRIs for properties, a context with the prefixes).
pub fn json_ld(triples: &[Triple]) -> Value {
    let mut nodes: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for triple in triples {
        let node = nodes.entry(&triple.subject).or_insert_with(|| {
            order.push(&triple.subject);
            let mut node = Map::new();
            node.insert("@id".into(), Value::String(triple.subject.clone()));
            node
        });
        let (key, value) = if triple.predicate == RDF_TYPE {
            let Object::Iri(class) = &triple.object else {
                continue;
            };
            ("@type".to_owned(), Value::String(class.clone()))
        } else {
            let value = match &triple.object {
                Object::Iri(iri) => json!({"@id": safe_iri(iri)}),
                Object::Text(value) => json!({"@value": value, "@language": "it"}),
                Object::Typed(value, datatype) => {
                    json!({"@value": value, "@type": format!("{XSD}{datatype}")})
                }
            };
            (triple.predicate.clone(), value)
        };
        match node.get_mut(&key) {
            Some(Value::Array(values)) => values.push(value),
            _ => {
                node.insert(key, Value::Array(vec![value]));
            }
        }
    }
    let context: Map<String, Value> = PREFIXES
        .iter()
        .map(|(prefix, ns)| ((*prefix).to_owned(), Value::String((*ns).to_owned())))
        .collect();
    let graph: Vec<Value> = order
        .into_iter()
        .filter_map(|subject| nodes.remove(subject).map(Value::Object))
        .collect();
    json!({"@context": context, "@graph": graph})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(
            turtle_string("Servizio \"SPID\"\nriga\\due\u{7}"),
            "\"Servizio \\\"SPID\\\"\\nriga\\\\due\\u0007\""
        );
    }

    #[test]
    fn iris_are_made_safe() {
        assert_eq!(safe_iri("https://x.it/a b<c>"), "https://x.it/a%20b%3Cc%3E");
        assert_eq!(
            turtle_term(&format!("{CPSV}PublicService")),
            "cpsvapit:PublicService"
        );
        assert_eq!(
            turtle_term(&format!("{CHANNELS}0111")),
            format!("<{CHANNELS}0111>")
        );
    }
}
