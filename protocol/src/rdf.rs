//! A small RDF graph and its three public serialisations — Turtle, RDF/XML and JSON-LD — for
//! the DCAT-AP_IT catalogues ([`crate::dcat`]). One list of triples is written three ways, so
//! the three documents always hold the same graph (the tests check it with rdflib).
//!
//! The writers escape what each syntax needs: quotes, backslashes and line breaks in Turtle
//! strings; `&`, `<`, `>` and quotes in XML; JSON strings through serde_json. Characters XML 1.0
//! cannot carry at all (most C0 controls) become U+FFFD in every serialisation alike.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The `rdf:type` predicate.
pub const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

/// Namespaces written as prefixes (Turtle, RDF/XML), longest match first is not needed: no
/// namespace here is a prefix of another.
const PREFIXES: &[(&str, &str)] = &[
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("dcat", "http://www.w3.org/ns/dcat#"),
    ("dct", "http://purl.org/dc/terms/"),
    ("dcatapit", "http://dati.gov.it/onto/dcatapit#"),
    ("foaf", "http://xmlns.com/foaf/0.1/"),
    ("vcard", "http://www.w3.org/2006/vcard/ns#"),
    ("skos", "http://www.w3.org/2004/02/skos/core#"),
    ("locn", "http://www.w3.org/ns/locn#"),
    ("hydra", "http://www.w3.org/ns/hydra/core#"),
    ("owl", "http://www.w3.org/2002/07/owl#"),
];

/// A node of the graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Term {
    /// An IRI.
    Iri(String),
    /// A blank node, by its label within the document (`b1`).
    Blank(String),
    /// A string in a language (`"Treviso"@it`).
    Text(String, &'static str),
    /// A typed literal (`"2026-01-15"^^xsd:date`), the datatype a full IRI.
    Typed(String, &'static str),
    /// A plain string (`xsd:string`).
    Plain(String),
}

impl Term {
    /// An IRI term.
    pub fn iri(iri: impl Into<String>) -> Term {
        Term::Iri(iri.into())
    }
}

/// A list of triples, written in the order they were added (subjects grouped as added).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    triples: Vec<(Term, &'static str, Term)>,
}

/// `xsd:date`.
pub const XSD_DATE: &str = "http://www.w3.org/2001/XMLSchema#date";
/// `xsd:integer`.
pub const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";

impl Graph {
    /// Adds a triple. Subjects are IRIs or blank nodes; a literal subject is a programming
    /// error and is dropped by the writers' callers' construction (never passed here).
    pub fn add(&mut self, subject: &Term, predicate: &'static str, object: Term) {
        self.triples.push((subject.clone(), predicate, object));
    }

    /// Adds `subject rdf:type class` for each class.
    pub fn types(&mut self, subject: &Term, classes: &[&str]) {
        for class in classes {
            self.add(subject, RDF_TYPE, Term::iri(*class));
        }
    }

    /// The triples.
    pub fn triples(&self) -> &[(Term, &'static str, Term)] {
        &self.triples
    }

    /// Number of triples.
    pub fn len(&self) -> usize {
        self.triples.len()
    }

    /// Whether the graph is empty.
    pub fn is_empty(&self) -> bool {
        self.triples.is_empty()
    }

    /// The triples grouped by subject, subjects in order of first appearance.
    fn by_subject(&self) -> Vec<(&Term, Vec<(&'static str, &Term)>)> {
        let mut order: Vec<&Term> = Vec::new();
        let mut groups: BTreeMap<&Term, Vec<(&'static str, &Term)>> = BTreeMap::new();
        for (s, p, o) in &self.triples {
            let group = groups.entry(s).or_default();
            if group.is_empty() {
                order.push(s);
            }
            group.push((p, o));
        }
        order
            .into_iter()
            .map(|s| (s, groups.remove(s).unwrap_or_default()))
            .collect()
    }

    /// Turtle (RDF 1.1).
    pub fn to_turtle(&self) -> String {
        let mut out = String::new();
        for (prefix, ns) in PREFIXES {
            let _ = writeln!(out, "@prefix {prefix}: <{ns}> .");
        }
        for (subject, properties) in self.by_subject() {
            out.push('\n');
            out.push_str(&turtle_term(subject));
            for (i, (p, o)) in properties.iter().enumerate() {
                out.push_str(if i == 0 { "\n    " } else { " ;\n    " });
                if *p == RDF_TYPE {
                    out.push('a');
                } else {
                    out.push_str(&turtle_iri(p));
                }
                out.push(' ');
                out.push_str(&turtle_term(o));
            }
            out.push_str(" .\n");
        }
        out
    }

    /// RDF/XML.
    pub fn to_rdf_xml(&self) -> String {
        let mut namespaces: BTreeMap<String, String> = BTreeMap::new();
        let mut extra = 0;
        let mut qnames: BTreeMap<&'static str, String> = BTreeMap::new();
        for (_, p, _) in &self.triples {
            if qnames.contains_key(p) {
                continue;
            }
            // Split after the last '#' or '/': the rest must be an XML name.
            let cut = p.rfind(['#', '/']).map_or(0, |i| i + 1);
            let (ns, local) = p.split_at(cut);
            let prefix = match PREFIXES.iter().find(|(_, known)| *known == ns) {
                Some((prefix, _)) => (*prefix).to_owned(),
                None => match namespaces.iter().find(|(_, n)| n.as_str() == ns) {
                    Some((prefix, _)) => prefix.clone(),
                    None => {
                        extra += 1;
                        format!("ns{extra}")
                    }
                },
            };
            namespaces.insert(prefix.clone(), ns.to_owned());
            qnames.insert(*p, format!("{prefix}:{local}"));
        }
        namespaces.insert("rdf".into(), PREFIXES[0].1.into());
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rdf:RDF");
        for (prefix, ns) in &namespaces {
            let _ = write!(out, "\n    xmlns:{prefix}=\"{}\"", xml_escape(ns));
        }
        out.push_str(">\n");
        for (subject, properties) in self.by_subject() {
            match subject {
                Term::Blank(label) => {
                    let _ = writeln!(
                        out,
                        "  <rdf:Description rdf:nodeID=\"{}\">",
                        xml_escape(label)
                    );
                }
                other => {
                    let iri = match other {
                        Term::Iri(iri) => iri.as_str(),
                        _ => "",
                    };
                    let _ = writeln!(
                        out,
                        "  <rdf:Description rdf:about=\"{}\">",
                        xml_escape(&clean_iri(iri))
                    );
                }
            }
            for (p, o) in properties {
                let name = &qnames[p];
                let _ = match o {
                    Term::Iri(iri) => writeln!(
                        out,
                        "    <{name} rdf:resource=\"{}\"/>",
                        xml_escape(&clean_iri(iri))
                    ),
                    Term::Blank(label) => {
                        writeln!(out, "    <{name} rdf:nodeID=\"{}\"/>", xml_escape(label))
                    }
                    Term::Text(text, lang) => writeln!(
                        out,
                        "    <{name} xml:lang=\"{lang}\">{}</{name}>",
                        xml_escape(text)
                    ),
                    Term::Typed(text, datatype) => writeln!(
                        out,
                        "    <{name} rdf:datatype=\"{datatype}\">{}</{name}>",
                        xml_escape(text)
                    ),
                    Term::Plain(text) => {
                        writeln!(out, "    <{name}>{}</{name}>", xml_escape(text))
                    }
                };
            }
            out.push_str("  </rdf:Description>\n");
        }
        out.push_str("</rdf:RDF>\n");
        out
    }

    /// JSON-LD 1.1 in expanded form (no context to fetch: every IRI is written whole).
    pub fn to_json_ld(&self) -> String {
        let mut nodes = Vec::new();
        for (subject, properties) in self.by_subject() {
            let mut node = serde_json::Map::new();
            node.insert("@id".into(), serde_json::Value::String(node_id(subject)));
            let mut types = Vec::new();
            let mut values: BTreeMap<&str, Vec<serde_json::Value>> = BTreeMap::new();
            for (p, o) in properties {
                if p == RDF_TYPE
                    && let Term::Iri(class) = o
                {
                    types.push(serde_json::Value::String(clean_iri(class)));
                    continue;
                }
                let value = match o {
                    Term::Iri(_) | Term::Blank(_) => serde_json::json!({ "@id": node_id(o) }),
                    Term::Text(text, lang) => {
                        serde_json::json!({ "@value": clean_text(text), "@language": lang })
                    }
                    Term::Typed(text, datatype) => {
                        serde_json::json!({ "@value": clean_text(text), "@type": datatype })
                    }
                    Term::Plain(text) => serde_json::json!({ "@value": clean_text(text) }),
                };
                values.entry(p).or_default().push(value);
            }
            if !types.is_empty() {
                node.insert("@type".into(), serde_json::Value::Array(types));
            }
            for (p, list) in values {
                node.insert(p.to_owned(), serde_json::Value::Array(list));
            }
            nodes.push(serde_json::Value::Object(node));
        }
        serde_json::to_string_pretty(&serde_json::Value::Array(nodes)).unwrap_or_default()
    }
}

/// The serialisations of a catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RdfFormat {
    /// Turtle, `text/turtle`.
    Turtle,
    /// RDF/XML, `application/rdf+xml` (what dati.gov.it harvests by default).
    RdfXml,
    /// JSON-LD, `application/ld+json`.
    JsonLd,
}

impl RdfFormat {
    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            RdfFormat::Turtle => "text/turtle; charset=utf-8",
            RdfFormat::RdfXml => "application/rdf+xml; charset=utf-8",
            RdfFormat::JsonLd => "application/ld+json",
        }
    }

    /// The file extension of the stable URL.
    pub fn extension(self) -> &'static str {
        match self {
            RdfFormat::Turtle => "ttl",
            RdfFormat::RdfXml => "rdf",
            RdfFormat::JsonLd => "jsonld",
        }
    }

    /// The format an `Accept` header asks for first among ours (RDF/XML when it names none).
    pub fn negotiate(accept: &str) -> RdfFormat {
        let mut best: Option<(f32, usize, RdfFormat)> = None;
        for (i, part) in accept.split(',').enumerate() {
            let mut pieces = part.split(';');
            let media = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let format = match media.as_str() {
                "text/turtle" | "application/x-turtle" => RdfFormat::Turtle,
                "application/rdf+xml" => RdfFormat::RdfXml,
                "application/ld+json" => RdfFormat::JsonLd,
                _ => continue,
            };
            if quality > 0.0 && best.is_none_or(|(q, _, _)| quality > q) {
                best = Some((quality, i, format));
            }
        }
        best.map_or(RdfFormat::RdfXml, |(_, _, format)| format)
    }

    /// Writes `graph` in this format.
    pub fn write(self, graph: &Graph) -> String {
        match self {
            RdfFormat::Turtle => graph.to_turtle(),
            RdfFormat::RdfXml => graph.to_rdf_xml(),
            RdfFormat::JsonLd => graph.to_json_ld(),
        }
    }
}

fn node_id(term: &Term) -> String {
    match term {
        Term::Iri(iri) => clean_iri(iri),
        Term::Blank(label) => format!("_:{label}"),
        _ => String::new(),
    }
}

/// Characters XML 1.0 cannot hold (C0 controls other than tab, newline, carriage return)
/// replaced by U+FFFD, the same in every serialisation so that the graphs stay equal.
fn clean_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// Percent-encodes what an IRI may not contain (white space, `<>"{}|^\``, controls).
fn clean_iri(iri: &str) -> String {
    let mut out = String::with_capacity(iri.len());
    for c in iri.chars() {
        if c <= ' ' || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\') {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{byte:02X}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn turtle_iri(iri: &str) -> String {
    for (prefix, ns) in PREFIXES {
        if let Some(local) = iri.strip_prefix(ns)
            && !local.is_empty()
            && local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && local.as_bytes()[0].is_ascii_alphabetic()
        {
            return format!("{prefix}:{local}");
        }
    }
    format!("<{}>", clean_iri(iri))
}

fn turtle_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in clean_text(text).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn turtle_term(term: &Term) -> String {
    match term {
        Term::Iri(iri) => turtle_iri(iri),
        Term::Blank(label) => format!("_:{label}"),
        Term::Text(text, lang) => format!("{}@{lang}", turtle_string(text)),
        Term::Typed(text, datatype) => format!("{}^^{}", turtle_string(text), turtle_iri(datatype)),
        Term::Plain(text) => turtle_string(text),
    }
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in clean_text(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Kept as characters by an XML parser only when escaped (attribute normalisation
            // and line-end handling would otherwise change them).
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Graph {
        let mut graph = Graph::default();
        let s = Term::iri("https://example.org/d/1");
        graph.types(&s, &["http://www.w3.org/ns/dcat#Dataset"]);
        graph.add(
            &s,
            "http://purl.org/dc/terms/title",
            Term::Text("Quote \" back\\slash\nline <a> & b".into(), "it"),
        );
        graph.add(
            &s,
            "http://purl.org/dc/terms/identifier",
            Term::Plain("p_tv:x".into()),
        );
        graph.add(
            &s,
            "http://purl.org/dc/terms/modified",
            Term::Typed("2026-01-15".into(), XSD_DATE),
        );
        graph.add(
            &s,
            "http://www.w3.org/ns/dcat#contactPoint",
            Term::Blank("c1".into()),
        );
        graph
    }

    #[test]
    fn turtle_escapes_strings() {
        let ttl = sample().to_turtle();
        assert!(
            ttl.contains(r#""Quote \" back\\slash\nline <a> & b"@it"#),
            "{ttl}"
        );
        assert!(ttl.contains("a dcat:Dataset"));
        assert!(ttl.contains("\"2026-01-15\"^^xsd:date"));
    }

    #[test]
    fn xml_escapes_markup() {
        let xml = sample().to_rdf_xml();
        assert!(
            xml.contains("Quote &quot; back\\slash&#10;line &lt;a&gt; &amp; b"),
            "{xml}"
        );
        assert!(xml.contains("rdf:nodeID=\"c1\""));
    }

    #[test]
    fn json_ld_is_json() {
        let json: serde_json::Value = serde_json::from_str(&sample().to_json_ld()).unwrap();
        let node = &json[0];
        assert_eq!(node["@type"][0], "http://www.w3.org/ns/dcat#Dataset");
        assert_eq!(
            node["http://purl.org/dc/terms/title"][0]["@value"],
            "Quote \" back\\slash\nline <a> & b"
        );
    }

    #[test]
    fn negotiation_follows_quality_and_defaults_to_rdf_xml() {
        assert_eq!(RdfFormat::negotiate("text/turtle"), RdfFormat::Turtle);
        assert_eq!(
            RdfFormat::negotiate("application/rdf+xml;q=0.5, application/ld+json"),
            RdfFormat::JsonLd
        );
        assert_eq!(RdfFormat::negotiate("text/html, */*"), RdfFormat::RdfXml);
        assert_eq!(RdfFormat::negotiate("text/turtle;q=0"), RdfFormat::RdfXml);
    }

    #[test]
    fn controls_and_bad_iri_characters_are_replaced() {
        assert_eq!(clean_text("a\u{1}b"), "a\u{FFFD}b");
        assert_eq!(clean_iri("https://x/a b<c>"), "https://x/a%20b%3Cc%3E");
    }
}
