//! kwctl session files: what `kwctl run --record-host-capabilities-interactions FILE`
//! writes and `--replay-host-capabilities-interactions FILE` reads (docs/kwctl.md).
//! Every OCI exchange of a session becomes a case, and a case becomes a session.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::case::{
    Case, CaseError, CaseFile, HostResponse, Op, Origin, Provenance, ResponseSpec, line_column,
};

/// One entry of a session file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type")]
enum Event {
    Exchange { request: String, response: Response },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type")]
enum Response {
    Success { payload: String },
    Error { message: String },
}

/// The OCI requests of kwctl's `CallbackRequestType`, written as YAML with a tag
/// (`!OciManifest\nimage: ...`) inside the exchange's `request` string.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[expect(clippy::enum_variant_names, reason = "the names are kwctl's YAML tags")]
enum Request {
    OciManifest { image: String },
    OciManifestDigest { image: String },
    OciManifestAndConfig { image: String },
}

impl Request {
    fn new(op: Op, image: String) -> Request {
        match op {
            Op::OciManifest => Request::OciManifest { image },
            Op::ManifestDigest => Request::OciManifestDigest { image },
            Op::OciManifestConfig => Request::OciManifestAndConfig { image },
        }
    }

    fn into_parts(self) -> (Op, String) {
        match self {
            Request::OciManifest { image } => (Op::OciManifest, image),
            Request::OciManifestDigest { image } => (Op::ManifestDigest, image),
            Request::OciManifestAndConfig { image } => (Op::OciManifestConfig, image),
        }
    }
}

/// An exchange of a session that is not an OCI manifest fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// 0-based position in the session.
    pub index: usize,
    /// The request's YAML tag, e.g. `!KubernetesGetResource`.
    pub request: String,
}

/// Reads a session file: one case per OCI exchange, ids `<op>/kwctl/<session>/<n>`.
pub fn import(path: &Path) -> Result<(Vec<CaseFile>, Vec<Skipped>), CaseError> {
    let error = |(line, column): (usize, usize), message: String| CaseError {
        path: path.to_path_buf(),
        line,
        column,
        message,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| error((0, 0), format!("failed to read the session file: {e}")))?;
    let events: Vec<Event> = serde_norway::from_str(&text).map_err(|e| {
        let at = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        error(at, format!("not a kwctl session: {e}"))
    })?;
    let session =
        path.file_stem().unwrap_or_default().to_string_lossy().to_lowercase().replace(['_', ' '], "-");
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    for (index, Event::Exchange { request, response }) in events.into_iter().enumerate() {
        let tag = request.split_whitespace().next().unwrap_or_default().to_string();
        if !matches!(tag.as_str(), "!OciManifest" | "!OciManifestDigest" | "!OciManifestAndConfig") {
            skipped.push(Skipped { index, request: tag });
            continue;
        }
        let (op, image) = serde_norway::from_str::<Request>(&request)
            .map_err(|e| {
                error(request_position(&text, index), format!("exchange {index}: bad {tag} request: {e}"))
            })?
            .into_parts();
        let response = match response {
            Response::Success { payload } => ResponseSpec::Text(payload),
            Response::Error { message } => ResponseSpec::HostError(message),
        };
        cases.push(CaseFile {
            id: format!("{}/kwctl/{session}/{index}", op.name()),
            description: format!(
                "Exchange {index} of the kwctl session {}: {tag} for {image}.",
                path.display()
            ),
            op,
            image,
            response,
            origin: Origin::KwctlSession,
            provenance: Some(Provenance {
                path: Some(path.display().to_string()),
                note: Some(format!(
                    "exchange {index} recorded by kwctl run --record-host-capabilities-interactions"
                )),
                ..Provenance::default()
            }),
            spec: None,
            tags: vec!["kwctl-session".into()],
            level: Default::default(),
            expect: None,
        });
    }
    Ok((cases, skipped))
}

/// A session with the case's one exchange, which `kwctl run
/// --replay-host-capabilities-interactions` replays against a real policy.
pub fn export(case: &Case) -> Result<String, ExportError> {
    let request =
        serde_norway::to_string(&Request::new(case.op, case.image.clone())).expect("a request serialises");
    let response = match &case.response {
        HostResponse::Success(bytes) => Response::Success {
            payload: String::from_utf8(bytes.clone())
                .map_err(|_| ExportError::NotUtf8 { case: case.id.clone() })?,
        },
        HostResponse::Error(message) => Response::Error { message: message.clone() },
    };
    Ok(serde_norway::to_string(&vec![Event::Exchange { request, response }]).expect("a session serialises"))
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("case {case}: kwctl sessions carry payloads as text, and this response is not UTF-8")]
    NotUtf8 { case: String },
}

/// Where the `index`th `request:` key of the session is.
fn request_position(text: &str, index: usize) -> (usize, usize) {
    text.match_indices("request:").nth(index).map_or((1, 1), |(at, _)| line_column(text, at))
}
