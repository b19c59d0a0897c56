//! OpenAPI conventions both services share: every operation documents the problem responses
//! that the shared plumbing can give, derived once from the operation's shape by
//! [`ProblemResponses`], so that each handler annotates only what is its own: a status the
//! uniform ones do not cover, or one it describes more precisely, written with its description
//! alone (`(status = 409, description = "…")`); every 4xx and 5xx gets the problem content.
//!
//! Clients are generated from the document and API fuzzers check every answer against it, so
//! an answer the document does not list is a bug of the document. The statuses that come from
//! [`crate::http::layers`], the extractors of [`crate::json`] and authentication are the same on
//! every operation of a given shape; writing them by hand on sixty operations is how some get
//! forgotten.

use std::borrow::Cow;

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{
    KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{OpenApi, Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::problem::{PROBLEM_JSON, ProblemDocument};

/// Adds to every operation the `application/problem+json` responses that the shared plumbing
/// can answer, unless the operation already documents that status (its own description,
/// being more precise, wins):
///
/// | status | on | because of |
/// |---|---|---|
/// | 400 | a JSON body, a query parameter, a path parameter that is not a plain string | malformed JSON, `invalid_query`, `invalid_path` |
/// | 401 | a security requirement (even an optional one: a wrong token is refused) | no or invalid credentials |
/// | 403 | a mandatory security requirement, when [`role_based`](Self::role_based) | the caller's role |
/// | 404 | a path parameter | no such resource, or one the caller may not know about |
/// | 413 | a request body | the body limit |
/// | 415 | a JSON body | a missing or wrong `Content-Type` |
/// | 422 | a JSON body | well-formed JSON of the wrong shape |
/// | 429 | every operation | the rate limit, with `Retry-After` |
/// | 503 | every operation | the service is busy (database pool or admission budget) |
/// | 500 | every operation | the handler failed (logged once) |
///
/// The `Problem` schema is added to the components if the document does not hold it yet.
#[derive(Debug, Clone, Copy)]
pub struct ProblemResponses {
    /// Whether an authenticated caller can be refused by role (403) on any operation that
    /// requires authentication: true for the node, whose one policy function decides every
    /// route by role; false for a service whose only credential opens everything it guards.
    pub role_based: bool,
}

impl ProblemResponses {
    /// For a service whose callers are refused by role (the node).
    pub const ROLE_BASED: ProblemResponses = ProblemResponses { role_based: true };
    /// For a service whose only credential opens everything it guards.
    pub const ONE_CREDENTIAL: ProblemResponses = ProblemResponses { role_based: false };
}

impl utoipa::Modify for ProblemResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let name = <ProblemDocument<'static> as ToSchema>::name().into_owned();
        components
            .schemas
            .entry(name.clone())
            .or_insert_with(<ProblemDocument<'static> as PartialSchema>::schema);
        let problem = Ref::from_schema_name(name);
        let default_security = openapi.security.clone();
        for operation in operations_mut(openapi) {
            let shape = Shape::of(operation, default_security.as_deref());
            for (status, description) in self.statuses(&shape) {
                add_problem(operation, status, description, &problem);
            }
            // An error a handler documents by hand (a status with its own description, no
            // body) is still a problem document: it gets the same content as the others.
            for (status, response) in operation.responses.responses.iter_mut() {
                if let RefOr::T(response) = response
                    && (status.starts_with('4') || status.starts_with('5'))
                {
                    response.content.clear();
                    response.content.insert(
                        PROBLEM_JSON.into(),
                        ContentBuilder::new()
                            .schema(Some(RefOr::Ref(problem.clone())))
                            .build(),
                    );
                }
            }
        }
    }
}

/// Every operation of the document, whatever its path and method.
pub fn operations_mut(openapi: &mut OpenApi) -> impl Iterator<Item = &mut Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
    })
}

impl ProblemResponses {
    /// The uniform statuses of an operation of this shape, with their generic descriptions.
    fn statuses(&self, shape: &Shape) -> Vec<(u16, &'static str)> {
        let mut statuses = Vec::new();
        if shape.json_body || shape.query || shape.parsed_path {
            statuses.push((
                400,
                "Invalid request: malformed JSON (`malformed_json`), query string \
                 (`invalid_query`) or path parameter (`invalid_path`)",
            ));
        }
        if shape.authentication != Authentication::None {
            statuses.push((
                401,
                "Authentication required (`unauthenticated`), or the token is unknown, revoked \
                 or expired (`invalid_token`)",
            ));
        }
        if self.role_based && shape.authentication == Authentication::Required {
            statuses.push((403, "The caller's role does not allow this (`forbidden`)"));
        }
        if shape.path {
            statuses.push((
                404,
                "No such resource, or one the caller may not see (`not_found`)",
            ));
        }
        if shape.body {
            statuses.push((
                413,
                "The request body is larger than this operation accepts (`body_too_large`)",
            ));
        }
        if shape.json_body {
            statuses.push((
                415,
                "The body is not sent as `Content-Type: application/json` \
                 (`unsupported_media_type`)",
            ));
            statuses.push((
                422,
                "Well-formed JSON of the wrong shape: a wrong type, a missing or unknown field \
                 (`invalid_body`), or an invalid value (`invalid_field`, with `errors`)",
            ));
        }
        statuses.push((
            429,
            "Too many requests from this client (`rate_limited`): retry after `Retry-After` \
             seconds",
        ));
        statuses.push((503, "The service is busy (`busy`): retry shortly"));
        statuses.push((500, "`internal`: the service failed; nothing was changed"));
        statuses
    }
}

/// Whether an operation asks for credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Authentication {
    /// No security requirement.
    None,
    /// Credentials are optional: anonymous callers are served, wrong credentials refused.
    Optional,
    /// Credentials are required.
    Required,
}

/// What the uniform responses depend on.
#[derive(Debug)]
struct Shape {
    authentication: Authentication,
    body: bool,
    json_body: bool,
    query: bool,
    path: bool,
    parsed_path: bool,
}

impl Shape {
    fn of(
        operation: &Operation,
        default_security: Option<&[utoipa::openapi::security::SecurityRequirement]>,
    ) -> Shape {
        let security = operation.security.as_deref().or(default_security);
        let anonymous = utoipa::openapi::security::SecurityRequirement::default();
        let authentication = match security {
            None | Some([]) => Authentication::None,
            Some(requirements) if requirements.contains(&anonymous) => {
                if requirements.len() > 1 {
                    Authentication::Optional
                } else {
                    Authentication::None
                }
            }
            Some(_) => Authentication::Required,
        };
        let body = operation.request_body.as_ref();
        let parameters = operation.parameters.as_deref().unwrap_or_default();
        let in_path = || {
            parameters
                .iter()
                .filter(|p| p.parameter_in == ParameterIn::Path)
        };
        Shape {
            authentication,
            body: body.is_some(),
            json_body: body.is_some_and(|body| {
                body.content
                    .keys()
                    .any(|media| media.starts_with("application/json"))
            }),
            query: parameters
                .iter()
                .any(|p| p.parameter_in == ParameterIn::Query),
            path: in_path().next().is_some(),
            parsed_path: in_path().any(|p| !is_plain_string(p.schema.as_ref())),
        }
    }
}

/// A path parameter of a plain string schema is taken as it is: no 400 can come of it.
fn is_plain_string(schema: Option<&RefOr<Schema>>) -> bool {
    matches!(
        schema,
        Some(RefOr::T(Schema::Object(Object {
            schema_type: SchemaType::Type(Type::String),
            format: None,
            pattern: None,
            ..
        })))
    )
}

fn add_problem(operation: &mut Operation, status: u16, description: &str, problem: &Ref) {
    let responses = &mut operation.responses.responses;
    let key = status.to_string();
    if responses.contains_key(&key) {
        return;
    }
    let mut response = ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(RefOr::Ref(problem.clone())))
            .build(),
    );
    if status == 429 {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(<u64 as PartialSchema>::schema())
                .description(Some("Seconds to wait before the next request"))
                .build(),
        );
    }
    responses.insert(key, RefOr::T(response.build()));
}

/// The schema of a file sent or answered as the whole body (uploads, downloads, exports):
/// its bytes, in the media type of the content it is listed under. Annotate with
/// `request_body(content((FileBytes = "application/pdf"), …))` or
/// `(status = 200, content_type = "…", body = FileBytes)`.
#[derive(Debug, Clone, Copy)]
pub struct FileBytes;

impl PartialSchema for FileBytes {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("The file's bytes"))
            .into()
    }
}

impl ToSchema for FileBytes {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("FileBytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::Modify as _;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, PathItem};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{OpenApiBuilder, PathsBuilder, ResponseBuilder};

    fn statuses(operation: OperationBuilder, role_based: bool) -> Vec<String> {
        let mut doc = OpenApiBuilder::new()
            .paths(PathsBuilder::new().path(
                "/v1/things/{id}",
                PathItem::new(HttpMethod::Post, operation.build()),
            ))
            .build();
        ProblemResponses { role_based }.modify(&mut doc);
        let schemas = &doc.components.as_ref().expect("components").schemas;
        assert!(schemas.contains_key("Problem"), "Problem schema added");
        let operation = doc.paths.paths["/v1/things/{id}"]
            .post
            .as_ref()
            .expect("operation");
        operation.responses.responses.keys().cloned().collect()
    }

    fn ok() -> OperationBuilder {
        OperationBuilder::new().response("200", ResponseBuilder::new().description("ok"))
    }

    #[test]
    fn bare_operation_gets_429_and_503_only() {
        assert_eq!(statuses(ok(), true), ["200", "429", "500", "503"]);
    }

    #[test]
    fn json_body_path_and_required_bearer_get_their_statuses() {
        let operation = || {
            ok().parameter(
                ParameterBuilder::new()
                    .name("id")
                    .parameter_in(ParameterIn::Path)
                    .schema(Some(<i64 as PartialSchema>::schema())),
            )
            .request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", ContentBuilder::new().build())
                    .build(),
            ))
            .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
        };
        assert_eq!(
            statuses(operation(), true),
            [
                "200", "400", "401", "403", "404", "413", "415", "422", "429", "500", "503"
            ]
        );
        assert_eq!(
            statuses(operation(), false),
            [
                "200", "400", "401", "404", "413", "415", "422", "429", "500", "503"
            ],
            "no 403 where credentials are not role-based"
        );
    }

    #[test]
    fn raw_body_and_string_path_and_optional_auth() {
        let operation = ok()
            .parameter(
                ParameterBuilder::new()
                    .name("id")
                    .parameter_in(ParameterIn::Path)
                    .schema(Some(<String as PartialSchema>::schema())),
            )
            .request_body(Some(
                RequestBodyBuilder::new()
                    .content("text/csv", ContentBuilder::new().build())
                    .build(),
            ))
            .security(SecurityRequirement::default())
            .security(SecurityRequirement::new("bearer", Vec::<String>::new()));
        assert_eq!(
            statuses(operation, true),
            ["200", "401", "404", "413", "429", "500", "503"],
            "a string path parameter cannot be malformed; optional credentials: 401, no 403"
        );
    }

    #[test]
    fn documented_statuses_keep_their_own_description() {
        let operation = ok()
            .parameter(
                ParameterBuilder::new()
                    .name("q")
                    .parameter_in(ParameterIn::Query)
                    .schema(Some(<String as PartialSchema>::schema())),
            )
            .response("400", ResponseBuilder::new().description("Invalid cursor"));
        let mut doc = OpenApiBuilder::new()
            .paths(PathsBuilder::new().path(
                "/v1/things",
                PathItem::new(HttpMethod::Get, operation.build()),
            ))
            .build();
        ProblemResponses { role_based: true }.modify(&mut doc);
        let responses = &doc.paths.paths["/v1/things"]
            .get
            .as_ref()
            .expect("operation")
            .responses
            .responses;
        let RefOr::T(bad_request) = &responses["400"] else {
            panic!("inline response")
        };
        assert_eq!(bad_request.description, "Invalid cursor");
        let RefOr::T(limited) = &responses["429"] else {
            panic!("inline response")
        };
        assert!(limited.content.contains_key(PROBLEM_JSON));
        assert!(limited.headers.contains_key("Retry-After"));
    }
}
