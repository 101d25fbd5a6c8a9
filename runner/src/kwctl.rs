//! kwctl session files, exactly as kwctl reads and writes them (docs/kwctl.md):
//! what `kwctl run --record-host-capabilities-interactions FILE` writes and
//! `--replay-host-capabilities-interactions FILE` reads. Every OCI exchange of a session
//! becomes a case, and a case becomes a session.
//!
//! The types mirror kwctl's own (`src/callback_handler/proxy.rs`, unchanged since
//! kwctl 1.6) and the YAML crate is the one kwctl uses since 1.36 (`yaml_serde`, whose
//! output is byte-identical to the `serde_yaml` 0.9 older releases pin). kwctl records
//! a failed callback's bare message; the host wraps it for the guest
//! (`Callback evaluation failure: …`), on recording and on replay alike, so the case
//! keeps the bare message too.

use std::path::Path;

use serde::{Deserialize, Serialize};
use yaml_serde::Value;

use crate::case::{
    Case, CaseError, CaseFile, HostResponse, Op, Origin, Provenance, ResponseSpec, line_column,
};

/// kwctl's `Exchange`: a struct tagged `type`, so it is written `type: Exchange` and
/// read with or without that member (serde ignores a struct's tag when reading).
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type")]
struct Exchange {
    request: String,
    response: Response,
}

/// kwctl's `Response`; here the tag is required.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type")]
enum Response {
    Success { payload: String },
    Error { message: String },
}

/// The OCI variants of policy-evaluator's `CallbackRequestType` (externally tagged:
/// YAML `!OciManifest\nimage: ...`), the `request` string of an exchange.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[expect(clippy::enum_variant_names, reason = "the names are kwctl's YAML tags")]
enum Request {
    OciManifestDigest { image: String },
    OciManifest { image: String },
    OciManifestAndConfig { image: String },
}

impl Request {
    fn new(op: Op, image: String) -> Option<Request> {
        match op {
            Op::OciManifest => Some(Request::OciManifest { image }),
            Op::ManifestDigest => Some(Request::OciManifestDigest { image }),
            Op::OciManifestConfig => Some(Request::OciManifestAndConfig { image }),
            _ => None,
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
/// Every problem is located at the exchange, and inside its request, where it is.
pub fn import(path: &Path) -> Result<(Vec<CaseFile>, Vec<Skipped>), CaseError> {
    let error = |(line, column): (usize, usize), message: String| CaseError {
        path: path.to_path_buf(),
        line,
        column,
        message,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| error((0, 0), format!("failed to read the session file: {e}")))?;
    let items: Vec<Value> = yaml_serde::from_str(&text).map_err(|e| {
        let at = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        error(at, format!("not a kwctl session: {e}"))
    })?;
    let layout = Layout::of(&text);
    let session = crate::case::id_segment(&path.file_stem().unwrap_or_default().to_string_lossy());
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let at = |key: &str| layout.key(index, key);
        let field = |key: &str| {
            item.get(key)
                .cloned()
                .ok_or_else(|| error(layout.item(index), format!("exchange {index}: missing field `{key}`")))
        };
        let request: String = yaml_serde::from_value(field("request")?)
            .map_err(|e| error(at("request"), format!("exchange {index}: request: {e}")))?;
        let response: Response = yaml_serde::from_value(field("response")?)
            .map_err(|e| error(at("response"), format!("exchange {index}: response: {e}")))?;
        let in_request = |e: yaml_serde::Error| {
            let inner = e.location().map(|l| (l.line(), l.column()));
            error(layout.inside(index, "request", inner), format!("exchange {index}: bad request: {e}"))
        };
        let tag = match yaml_serde::from_str::<Value>(&request).map_err(in_request)? {
            Value::Tagged(tagged) => tagged.tag.to_string(),
            _ => {
                return Err(error(
                    at("request"),
                    format!(
                        "exchange {index}: the request is not a YAML document tagged like `!OciManifest`"
                    ),
                ));
            }
        };
        if !matches!(tag.as_str(), "!OciManifest" | "!OciManifestDigest" | "!OciManifestAndConfig") {
            skipped.push(Skipped { index, request: tag });
            continue;
        }
        let (op, image) = yaml_serde::from_str::<Request>(&request).map_err(in_request)?.into_parts();
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
            image: Some(image),
            input: None,
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

/// A session with the case's one exchange, as kwctl would have recorded it, which
/// `kwctl run --replay-host-capabilities-interactions` replays against a real policy.
pub fn export(case: &Case) -> Result<String, ExportError> {
    let request = Request::new(case.op, case.image().to_string())
        .ok_or_else(|| ExportError::NotOci { case: case.id.clone(), op: case.op })?;
    let request = yaml_serde::to_string(&request).expect("a request serialises");
    let response = match &case.response {
        HostResponse::Success(bytes) => Response::Success {
            payload: String::from_utf8(bytes.clone())
                .map_err(|_| ExportError::NotUtf8 { case: case.id.clone() })?,
        },
        HostResponse::Error(message) => Response::Error { message: message.clone() },
    };
    Ok(yaml_serde::to_string(&[Exchange { request, response }]).expect("a session serialises"))
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("case {case}: kwctl sessions carry payloads as text, and this response is not UTF-8")]
    NotUtf8 { case: String },
    #[error("case {case}: kwconform writes kwctl sessions for the OCI manifest operations only, not {op}")]
    NotOci { case: String, op: Op },
}

/// Where the exchanges of a session are: the top-level items of its YAML list (lines
/// starting with `-` in the first column), and their `request:` / `response:` keys.
struct Layout<'a> {
    text: &'a str,
    /// Byte offset of each item's `-`, and where its text ends.
    items: Vec<(usize, usize)>,
}

impl<'a> Layout<'a> {
    fn of(text: &'a str) -> Layout<'a> {
        let mut starts = Vec::new();
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            if line.starts_with("- ") || line.trim_end() == "-" {
                starts.push(offset);
            }
            offset += line.len();
        }
        let ends = starts.iter().skip(1).copied().chain([text.len()]);
        Layout { text, items: starts.iter().copied().zip(ends).collect() }
    }

    /// The position of the `index`th exchange, or (1, 1) when the list is not laid
    /// out one item per `-` line.
    fn item(&self, index: usize) -> (usize, usize) {
        self.items.get(index).map_or((1, 1), |&(start, _)| line_column(self.text, start))
    }

    /// The byte offset of `key:` among the `index`th exchange's own members.
    fn key_offset(&self, index: usize, key: &str) -> Option<usize> {
        let &(start, end) = self.items.get(index)?;
        let mut offset = start;
        for line in self.text[start..end].split_inclusive('\n') {
            let member = line.strip_prefix("- ").or_else(|| line.strip_prefix("  "));
            if member.is_some_and(|m| m.strip_prefix(key).is_some_and(|rest| rest.starts_with(':'))) {
                return Some(offset + 2);
            }
            offset += line.len();
        }
        None
    }

    /// The position of the exchange's `key:`, or of the exchange.
    fn key(&self, index: usize, key: &str) -> (usize, usize) {
        self.key_offset(index, key).map_or_else(|| self.item(index), |at| line_column(self.text, at))
    }

    /// A position inside the text of `key` (1-based `inner` line and column), when its
    /// value is a block scalar (`request: |`); the key's position otherwise.
    fn inside(&self, index: usize, key: &str, inner: Option<(usize, usize)>) -> (usize, usize) {
        let (Some(at), Some((line, column))) = (self.key_offset(index, key), inner) else {
            return self.key(index, key);
        };
        let rest = &self.text[at..];
        let value = rest.split('\n').next().unwrap_or_default()[key.len() + 1..].trim_start();
        if !value.starts_with(['|', '>']) {
            return self.key(index, key);
        }
        let (key_line, _) = line_column(self.text, at);
        let indent = rest
            .split('\n')
            .skip(1)
            .find(|l| !l.trim().is_empty())
            .map_or(0, |l| l.len() - l.trim_start().len());
        (key_line + line, indent + column)
    }
}
