//! Upload operations of the API, whose body is the file alone: their query (the file's name)
//! and their request body in the OpenAPI document, listed once per media type it may have.
//! The operations write `request_body = UploadedAttachment` (or `UploadedDocument`);
//! [`UploadTypes`] writes the list, so that it is kept in one place.

use std::borrow::Cow;

use pico_service::openapi::{FileBytes, operations_mut};
use serde::Deserialize;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{OpenApi, Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// What the body of an upload is described as.
const DESCRIPTION: &str = "The file's bytes, with its media type as `Content-Type`";

/// The query of an upload: the file's name, since the body is the file alone.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// File name shown to people (path components are dropped).
    pub filename: String,
}

/// The markers of upload request bodies, by schema name, with the media types each lists.
const MARKERS: [(&str, &[&str]); 2] = [
    (
        "UploadedAttachment",
        crate::helpdesk::ALLOWED_ATTACHMENT_TYPES,
    ),
    ("UploadedDocument", crate::attachments::DOCUMENT_TYPES),
];

/// The body of an attachment upload (`request_body = UploadedAttachment`), listed with the
/// types the Help Desk and the SUA accept: their attachments and SAPE's documents. SAPE's
/// store accepts more ([`crate::attachments::DOCUMENT_TYPES`]) than its operation has always
/// listed. Only a placeholder, which [`UploadTypes`] replaces.
#[derive(Debug, Clone, Copy)]
pub struct UploadedAttachment;

impl PartialSchema for UploadedAttachment {
    fn schema() -> RefOr<Schema> {
        FileBytes::schema()
    }
}

impl ToSchema for UploadedAttachment {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed(MARKERS[0].0)
    }
}

/// The body of a document upload (`request_body = UploadedDocument`), listed with every type
/// of [`crate::attachments::DOCUMENT_TYPES`], as the community's best practices accept. Only a
/// placeholder, which [`UploadTypes`] replaces.
#[derive(Debug, Clone, Copy)]
pub struct UploadedDocument;

impl PartialSchema for UploadedDocument {
    fn schema() -> RefOr<Schema> {
        FileBytes::schema()
    }
}

impl ToSchema for UploadedDocument {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed(MARKERS[1].0)
    }
}

/// Lists the media types of its marker in every request body marked [`UploadedAttachment`] or
/// [`UploadedDocument`], and drops the markers from the components. Runs before the uniform
/// problems, which read the body's media types (a file is no JSON body: no 415 or 422).
#[derive(Debug, Clone, Copy)]
pub struct UploadTypes;

impl utoipa::Modify for UploadTypes {
    fn modify(&self, openapi: &mut OpenApi) {
        let file = FileBytes::name();
        let mut used = false;
        for operation in operations_mut(openapi) {
            let Some(body) = operation.request_body.as_mut() else {
                continue;
            };
            let Some(types) = MARKERS.iter().find_map(|(name, types)| {
                let marker = RefOr::Ref(Ref::from_schema_name(*name));
                body.content
                    .values()
                    .any(|content| content.schema.as_ref() == Some(&marker))
                    .then_some(*types)
            }) else {
                continue;
            };
            body.content = types
                .iter()
                .map(|media| {
                    let schema = RefOr::Ref(Ref::from_schema_name(file.clone()));
                    let content = ContentBuilder::new().schema(Some(schema)).build();
                    ((*media).to_owned(), content)
                })
                .collect();
            body.description = Some(DESCRIPTION.to_owned());
            used = true;
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, _) in MARKERS {
            components.schemas.remove(name);
        }
        if used {
            components
                .schemas
                .entry(file.into_owned())
                .or_insert_with(FileBytes::schema);
        }
    }
}
