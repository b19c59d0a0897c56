//! OpenAPI conventions both services share: every error answer is documented as what it is,
//! `application/problem+json`, and every operation lists the errors the shared layers add.
//!
//! utoipa documents a `body = ProblemDocument` response as `application/json`, while
//! [`Problem`](crate::Problem) answers `application/problem+json` (RFC 7807). Add
//! [`ProblemResponses`] to an `#[openapi(modifiers(...))]` list, after the paths are known: it
//! gives every 4xx and 5xx response the problem media type and schema, and adds to every
//! operation the answers no handler writes but any request can get — 429 from the rate
//! limiter of [`crate::http::layers`] and 500 when the handler fails.

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::problem::{PROBLEM_JSON, ProblemDocument};

/// The modifier; see the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProblemResponses;

impl utoipa::Modify for ProblemResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .schemas
            .insert(
                ProblemDocument::name().into_owned(),
                ProblemDocument::schema(),
            );
        for item in openapi.paths.paths.values_mut() {
            for operation in operations_mut(item) {
                let responses = &mut operation.responses.responses;
                responses.entry("429".into()).or_insert_with(|| {
                    problem_response(
                        "`rate_limited`: too many requests from this client; retry after \
                         `Retry-After` seconds",
                    )
                });
                responses.entry("500".into()).or_insert_with(|| {
                    problem_response("`internal`: the service failed; nothing was changed")
                });
                for (status, response) in responses.iter_mut() {
                    if let RefOr::T(response) = response
                        && (status.starts_with('4') || status.starts_with('5'))
                    {
                        as_problem(response);
                    }
                }
            }
        }
    }
}

/// The operations of a path, whatever their method.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn problem_content() -> Content {
    Content::new(Some(Ref::from_schema_name(ProblemDocument::name())))
}

/// A problem response with `description`.
pub fn problem_response(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(PROBLEM_JSON, problem_content())
            .build(),
    )
}

/// Documents an error response as the problem+json it is, whatever media type it was given.
fn as_problem(response: &mut Response) {
    response.content.clear();
    response
        .content
        .insert(PROBLEM_JSON.into(), problem_content());
}

#[cfg(test)]
mod tests {
    use utoipa::Modify;
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
    use utoipa::openapi::{OpenApiBuilder, PathsBuilder};

    use super::*;

    #[test]
    fn errors_become_problem_json_and_shared_ones_are_added() {
        let operation = OperationBuilder::new()
            .response(
                "200",
                ResponseBuilder::new()
                    .description("ok")
                    .content("application/json", Content::new(None::<RefOr<_>>)),
            )
            .response(
                "404",
                ResponseBuilder::new()
                    .description("missing")
                    .content("application/json", problem_content()),
            )
            .build();
        let mut openapi = OpenApiBuilder::new()
            .paths(PathsBuilder::new().path("/x", PathItem::new(HttpMethod::Get, operation)))
            .build();
        ProblemResponses.modify(&mut openapi);
        let value = serde_json::to_value(&openapi).unwrap_or_default();
        let responses = &value["paths"]["/x"]["get"]["responses"];
        assert!(responses["200"]["content"]["application/json"].is_object());
        for status in ["404", "429", "500"] {
            let content = &responses[status]["content"];
            assert_eq!(
                content[PROBLEM_JSON]["schema"]["$ref"], "#/components/schemas/Problem",
                "{status}"
            );
            assert!(content.get("application/json").is_none(), "{status}");
        }
        assert!(value["components"]["schemas"]["Problem"].is_object());
    }
}
