//! The spec verdict: each host response judged against the specifications the SDKs
//! claim to implement, beside what the SDKs made of it (docs/spec-verdict.md). A
//! divergence on a document the specifications call valid is a bug in at least one SDK;
//! on an invalid one it is a difference in tolerance.

mod json;
mod oci;

use serde::Serialize;

pub use json::JsonVerdict;
pub use oci::{MAX_ERRORS, OciVerdict};

use crate::case::{HostResponse, Op};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SpecVerdict {
    /// The two below in one word.
    pub standing: Standing,
    /// The two below in one line, for people; every reporter shows this text.
    pub summary: String,
    /// RFC 8259 and I-JSON (RFC 7493).
    pub json: JsonVerdict,
    /// The OCI image-spec v1.1.1 JSON Schemas; absent when the response is not JSON.
    pub oci: Option<OciVerdict>,
}

/// What the specifications say of a document, in one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// Valid JSON, I-JSON, and valid against the OCI schemas that apply: a divergence on
    /// it is a bug in at least one SDK.
    Valid,
    /// Forbidden by one of them: a divergence on it is a difference in tolerance.
    Invalid,
    /// No OCI schema decides (a Docker document, Kubewarden's envelope without its OCI
    /// parts), or the document could not be read to the end.
    Undecided,
}

impl Standing {
    fn of(json: &JsonVerdict, oci: &Option<OciVerdict>) -> Standing {
        match (json, oci) {
            (JsonVerdict::Invalid { .. } | JsonVerdict::IJsonViolation { .. }, _) => Standing::Invalid,
            (_, Some(OciVerdict::Invalid { .. })) => Standing::Invalid,
            (JsonVerdict::Valid { .. }, Some(OciVerdict::Valid { .. })) => Standing::Valid,
            _ => Standing::Undecided,
        }
    }

    /// `valid`, `invalid`, `undecided`, as in report.json.
    pub fn name(self) -> &'static str {
        match self {
            Standing::Valid => "valid",
            Standing::Invalid => "invalid",
            Standing::Undecided => "undecided",
        }
    }

    /// What a divergence on such a document means.
    pub fn meaning(self) -> &'static str {
        match self {
            Standing::Valid => "a valid document: at least one SDK has a bug",
            Standing::Invalid => "not a valid document: a difference in tolerance",
            Standing::Undecided => "no specification decides",
        }
    }
}

impl SpecVerdict {
    fn new(json: JsonVerdict, oci: Option<OciVerdict>) -> SpecVerdict {
        let standing = Standing::of(&json, &oci);
        let summary = format!("{} ({})", line(&json, &oci), standing.meaning());
        SpecVerdict { standing, summary, json, oci }
    }
}

/// `JSON and I-JSON valid; OCI valid (image-manifest-schema.json at /)`.
fn line(json: &JsonVerdict, oci: &Option<OciVerdict>) -> String {
    let json = match json {
        JsonVerdict::Valid { advice } if advice.is_empty() => "JSON and I-JSON valid".to_string(),
        JsonVerdict::Valid { advice } => format!("JSON and I-JSON valid, but {}", advice.join("; ")),
        JsonVerdict::IJsonViolation { problems } => format!("JSON, not I-JSON: {}", problems.join("; ")),
        JsonVerdict::Invalid { error } => format!("not JSON: {error}"),
        JsonVerdict::Unchecked { reason } => format!("JSON not checked: {reason}"),
    };
    let oci = match oci {
        None => String::new(),
        Some(OciVerdict::Valid { schemas }) => format!("; OCI valid ({})", schemas.join(", ")),
        Some(OciVerdict::Invalid { errors }) => format!("; OCI invalid: {}", errors.join("; ")),
        Some(OciVerdict::NotApplicable { reason }) => format!("; OCI: {reason}"),
    };
    format!("{json}{oci}")
}

/// The verdict on a case's response; none for a host error (there is no document).
pub fn judge(op: Op, response: &HostResponse) -> Option<SpecVerdict> {
    let HostResponse::Success(bytes) = response else { return None };
    let (json, value) = json::judge(bytes);
    let oci = value.map(|value| oci::judge(op, &value));
    Some(SpecVerdict::new(json, oci))
}

#[cfg(test)]
mod tests;
