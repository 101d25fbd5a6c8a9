//! kwctl session files, exactly as kwctl reads and writes them (docs/kwctl.md):
//! what `kwctl run --record-host-capabilities-interactions FILE` writes and
//! `--replay-host-capabilities-interactions FILE` reads. Every exchange of an operation
//! kwconform runs becomes a case, and such a case becomes a session.
//!
//! The types mirror kwctl's own (`src/callback_handler/proxy.rs`, unchanged since
//! kwctl 1.6; the requests as kwctl 1.33 records them) and the YAML crate is the one kwctl uses since 1.36 (`yaml_serde`, whose
//! output is byte-identical to the `serde_yaml` 0.9 older releases pin). kwctl records
//! a failed callback's bare message; the host wraps it for the guest
//! (`Callback evaluation failure: …`), on recording and on replay alike, so the case
//! keeps the bare message too.

use std::path::Path;

use std::collections::BTreeSet;

use kubewarden_policy_sdk::host_capabilities::crypto_v1::CertificateVerificationRequest;
use kubewarden_policy_sdk::host_capabilities::kubernetes::SubjectAccessReview;
use serde::{Deserialize, Serialize};
use serde_json::json;
use yaml_serde::Value;

use crate::case::{
    Case, CaseError, CaseFile, HostResponse, Input, Op, Origin, Provenance, ResponseSpec, line_column,
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

/// The variants of policy-evaluator's `CallbackRequestType` (externally tagged: YAML
/// `!OciManifest\nimage: ...`) for the operations kwconform runs, the `request` string
/// of an exchange, as kwctl 1.33 declares them (kubewarden/kubewarden-controller,
/// `crates/policy-evaluator/src/callback_requests.rs`). They record the request as the
/// host decoded it, so certificates are bytes and field masks a sorted set; kwctl's
/// maps are `HashMap`s, written here in key order. `can_i` and the certificate check
/// are recorded since kwctl 1.32 (with the SDK's own request types, used here too),
/// field masks since 1.33 (older kwctl ignores the member).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Request {
    OciManifestDigest {
        image: String,
    },
    OciManifest {
        image: String,
    },
    OciManifestAndConfig {
        image: String,
    },
    SigstorePubKeyVerify {
        image: String,
        pub_keys: Vec<String>,
        annotations: Option<Annotations>,
    },
    SigstoreKeylessVerify {
        image: String,
        keyless: Vec<KeylessInfo>,
        annotations: Option<Annotations>,
    },
    SigstoreKeylessPrefixVerify {
        image: String,
        keyless_prefix: Vec<KeylessPrefixInfo>,
        annotations: Option<Annotations>,
    },
    SigstoreGithubActionsVerify {
        image: String,
        owner: String,
        repo: Option<String>,
        annotations: Option<Annotations>,
    },
    SigstoreCertificateVerify {
        image: String,
        certificate: Vec<u8>,
        certificate_chain: Option<Vec<Vec<u8>>>,
        require_rekor_bundle: bool,
        annotations: Option<Annotations>,
    },
    #[serde(rename = "DNSLookupHost")]
    DnsLookupHost {
        host: String,
    },
    KubernetesGetResource {
        api_version: String,
        kind: String,
        name: String,
        namespace: Option<String>,
        disable_cache: bool,
        field_masks: Option<BTreeSet<String>>,
    },
    KubernetesListResourceNamespace {
        api_version: String,
        kind: String,
        namespace: String,
        label_selector: Option<String>,
        field_selector: Option<String>,
        field_masks: Option<BTreeSet<String>>,
    },
    KubernetesListResourceAll {
        api_version: String,
        kind: String,
        label_selector: Option<String>,
        field_selector: Option<String>,
        field_masks: Option<BTreeSet<String>>,
    },
    KubernetesCanI {
        request: SubjectAccessReview,
        disable_cache: bool,
    },
    CryptoIsCertificateTrusted {
        request: CertificateVerificationRequest,
    },
}

type Annotations = std::collections::BTreeMap<String, String>;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct KeylessInfo {
    issuer: String,
    subject: String,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct KeylessPrefixInfo {
    issuer: String,
    url_prefix: String,
}

/// The recorded request's tag for each operation kwconform runs.
const TAGS: [(Op, &str); 14] = [
    (Op::OciManifest, "OciManifest"),
    (Op::ManifestDigest, "OciManifestDigest"),
    (Op::OciManifestConfig, "OciManifestAndConfig"),
    (Op::VerifyPubKeys, "SigstorePubKeyVerify"),
    (Op::VerifyKeylessExact, "SigstoreKeylessVerify"),
    (Op::VerifyKeylessPrefix, "SigstoreKeylessPrefixVerify"),
    (Op::VerifyGithubActions, "SigstoreGithubActionsVerify"),
    (Op::VerifyCertificate, "SigstoreCertificateVerify"),
    (Op::IsCertificateTrusted, "CryptoIsCertificateTrusted"),
    (Op::DnsLookupHost, "DNSLookupHost"),
    (Op::CanI, "KubernetesCanI"),
    (Op::GetResource, "KubernetesGetResource"),
    (Op::ListResourcesByNamespace, "KubernetesListResourceNamespace"),
    (Op::ListResourcesAll, "KubernetesListResourceAll"),
];

impl Request {
    /// The request the host decodes from the Rust SDK's payload for the case's inputs:
    /// no list is an empty one, certificate text its UTF-8 bytes, an empty `not_after`
    /// none (the SDK's `optional_string_as_none`).
    fn new(case: &Case) -> Request {
        let (_, tag) = TAGS.iter().find(|(op, _)| *op == case.op).expect("every operation has a tag");
        let mut fields = case.input.clone();
        let list = match case.op {
            Op::VerifyPubKeys => Some("pub_keys"),
            Op::VerifyKeylessExact => Some("keyless"),
            Op::VerifyKeylessPrefix => Some("keyless_prefix"),
            _ => None,
        };
        if let Some(list) = list
            && matches!(fields.get(list), None | Some(serde_json::Value::Null))
        {
            fields.insert(list.into(), json!([]));
        }
        each_certificate(&mut fields, |c| Some(*c = json!(c.as_str().unwrap_or_default().as_bytes())));
        let fields = match case.op {
            Op::CanI => {
                let disable_cache = fields.remove("disable_cache");
                json!({ "request": fields, "disable_cache": disable_cache })
            }
            Op::IsCertificateTrusted => {
                let not_after = fields.get("not_after").filter(|n| n.as_str() != Some("")).cloned();
                fields.insert("not_after".into(), not_after.unwrap_or_default());
                json!({ "request": fields })
            }
            _ => serde_json::Value::Object(fields),
        };
        serde_json::from_value(json!({ *tag: fields })).expect("a checked input is a request")
    }

    /// The operation and the case's inputs; `None` when a recorded certificate is not
    /// UTF-8 text, which no case input can express.
    fn into_parts(self) -> Option<(Op, Input)> {
        let serde_json::Value::Object(tagged) = serde_json::to_value(&self).expect("a request serialises")
        else {
            unreachable!("an externally tagged enum is an object")
        };
        let (tag, serde_json::Value::Object(mut input)) = tagged.into_iter().next().expect("one tag") else {
            unreachable!("every variant has named fields")
        };
        let text = |v: &serde_json::Value| -> Option<serde_json::Value> {
            let bytes: Vec<u8> = serde_json::from_value(v.clone()).ok()?;
            Some(serde_json::Value::String(String::from_utf8(bytes).ok()?))
        };
        // `can_i` and the certificate check hold the SDK's request under `request`.
        if let Some(serde_json::Value::Object(request)) = input.remove("request") {
            input.extend(request);
        }
        each_certificate(&mut input, |c| Some(*c = text(c)?))?;
        let (op, _) = TAGS.iter().find(|(_, t)| *t == tag).expect("every variant has a tag");
        Some((*op, input))
    }
}

/// Applies `f` to each certificate of a request's inputs (a verification's `certificate`
/// and `certificate_chain`, a certificate check's `cert` and `cert_chain` data); `None`
/// as soon as `f` gives none.
fn each_certificate(
    input: &mut Input,
    mut f: impl FnMut(&mut serde_json::Value) -> Option<()>,
) -> Option<()> {
    if let Some(certificate) = input.get_mut("certificate") {
        f(certificate)?;
    }
    if let Some(serde_json::Value::Array(chain)) = input.get_mut("certificate_chain") {
        chain.iter_mut().try_for_each(&mut f)?;
    }
    if let Some(cert) = input.get_mut("cert") {
        f(&mut cert["data"])?;
    }
    if let Some(serde_json::Value::Array(chain)) = input.get_mut("cert_chain") {
        chain.iter_mut().try_for_each(|c| f(&mut c["data"]))?;
    }
    Some(())
}

/// An exchange of a session for an operation kwconform does not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// 0-based position in the session.
    pub index: usize,
    /// The request's YAML tag, e.g. `!KubernetesGetResource`.
    pub request: String,
}

/// Reads a session file: one case per exchange of an operation kwconform runs, ids
/// `<op>/kwctl/<session>/<n>`.
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
        if !TAGS.iter().any(|(_, t)| tag.strip_prefix('!') == Some(*t)) {
            skipped.push(Skipped { index, request: tag });
            continue;
        }
        let Some((op, input)) = yaml_serde::from_str::<Request>(&request).map_err(in_request)?.into_parts()
        else {
            skipped.push(Skipped { index, request: tag });
            continue;
        };
        let response = match response {
            Response::Success { payload } => ResponseSpec::Text(payload),
            Response::Error { message } => ResponseSpec::HostError(message),
        };
        cases.push(CaseFile {
            id: format!("{}/kwctl/{session}/{index}", op.name()),
            description: format!(
                "Exchange {index} of the kwctl session {}: {tag} {}.",
                path.display(),
                serde_json::Value::Object(input.clone())
            ),
            op,
            image: op
                .is_oci()
                .then(|| input.get("image").and_then(|i| i.as_str()).unwrap_or_default().to_string()),
            input: (!op.is_oci()).then_some(input),
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
    let request = yaml_serde::to_string(&Request::new(case)).expect("a request serialises");
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
