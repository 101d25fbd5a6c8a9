//! The inputs a case gives the SDK function of an operation other than the three OCI
//! ones (docs/case-format.md, "Inputs"): one language-neutral model, checked when the
//! case is loaded and sent to every guest as written. Each guest maps the inputs onto
//! its SDK's parameters; what a guest does with an input its SDK's function has no
//! parameter for is in docs/guest-protocol.md.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::model::Op;

/// `null` and absent are the same input: "no list" (Go `nil`, Rust `None`, or an empty
/// `Vec` where the Rust parameter cannot be `None`).
type List<T> = Option<Vec<T>>;
type Annotations = Option<BTreeMap<String, String>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // read by serde only: the check is that the input parses
struct VerifyPubKeys {
    image: String,
    #[serde(default)]
    pub_keys: List<String>,
    #[serde(default)]
    annotations: Annotations,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct KeylessInfo {
    issuer: String,
    subject: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct VerifyKeylessExact {
    image: String,
    #[serde(default)]
    keyless: List<KeylessInfo>,
    #[serde(default)]
    annotations: Annotations,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct KeylessPrefixInfo {
    issuer: String,
    url_prefix: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct VerifyKeylessPrefix {
    image: String,
    #[serde(default)]
    keyless_prefix: List<KeylessPrefixInfo>,
    #[serde(default)]
    annotations: Annotations,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct VerifyGithubActions {
    image: String,
    owner: String,
    #[serde(default)]
    repo: Option<String>,
    #[serde(default)]
    annotations: Annotations,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct VerifyCertificate {
    image: String,
    certificate: String,
    #[serde(default)]
    certificate_chain: List<String>,
    require_rekor_bundle: bool,
    #[serde(default)]
    annotations: Annotations,
}

#[derive(Deserialize)]
#[allow(dead_code)]
enum Encoding {
    Der,
    Pem,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Certificate {
    encoding: Encoding,
    data: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct IsCertificateTrusted {
    cert: Certificate,
    #[serde(default)]
    cert_chain: List<Certificate>,
    #[serde(default)]
    not_after: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct DnsLookupHost {
    host: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ResourceAttributes {
    #[serde(default)]
    namespace: Option<String>,
    verb: String,
    #[serde(default)]
    group: Option<String>,
    resource: String,
    #[serde(default)]
    subresource: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct CanI {
    user: String,
    #[serde(default)]
    groups: List<String>,
    resource_attributes: ResourceAttributes,
    disable_cache: bool,
}

/// The Kubernetes kinds the Rust guest decodes into k8s-openapi types (`apiVersion`,
/// `kind`); `get_resource` decodes any other kind as a `serde_json::Value`, as a Rust
/// policy does for a kind k8s-openapi has no type for, and the list operations, whose
/// Rust functions need a k8s-openapi `ListableResource`, take these kinds only.
pub const TYPED_KINDS: [(&str, &str); 6] = [
    ("v1", "Namespace"),
    ("v1", "Pod"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("apps/v1", "Deployment"),
    ("networking.k8s.io/v1", "Ingress"),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct GetResource {
    api_version: String,
    kind: String,
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    disable_cache: bool,
    #[serde(default)]
    field_masks: List<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ListResourcesByNamespace {
    api_version: String,
    kind: String,
    namespace: String,
    #[serde(default)]
    label_selector: Option<String>,
    #[serde(default)]
    field_selector: Option<String>,
    #[serde(default)]
    field_masks: List<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ListResourcesAll {
    api_version: String,
    kind: String,
    #[serde(default)]
    label_selector: Option<String>,
    #[serde(default)]
    field_selector: Option<String>,
    #[serde(default)]
    field_masks: List<String>,
}

/// A list operation's kind must be one the Rust guest has a type for.
fn typed_kind(input: &Map<String, Value>) -> Result<(), String> {
    let (api_version, kind) = (input["api_version"].as_str(), input["kind"].as_str());
    if TYPED_KINDS.iter().any(|&(a, k)| Some(a) == api_version && Some(k) == kind) {
        return Ok(());
    }
    let kinds: Vec<String> = TYPED_KINDS.iter().map(|(a, k)| format!("{a} {k}")).collect();
    Err(format!("the list operations take one of these kinds (api_version kind): {}", kinds.join(", ")))
}

/// Whether `input` is a valid input of `op`; the error says what is wrong.
pub fn check(op: Op, input: &Map<String, Value>) -> Result<(), String> {
    fn parses<T: DeserializeOwned>(input: &Map<String, Value>) -> Result<(), String> {
        T::deserialize(Value::Object(input.clone())).map(drop).map_err(|e| e.to_string())
    }
    match op {
        Op::OciManifest | Op::ManifestDigest | Op::OciManifestConfig => Ok(()),
        Op::VerifyPubKeys => parses::<VerifyPubKeys>(input),
        Op::VerifyKeylessExact => parses::<VerifyKeylessExact>(input),
        Op::VerifyKeylessPrefix => parses::<VerifyKeylessPrefix>(input),
        Op::VerifyGithubActions => parses::<VerifyGithubActions>(input),
        Op::VerifyCertificate => parses::<VerifyCertificate>(input),
        Op::IsCertificateTrusted => parses::<IsCertificateTrusted>(input),
        Op::DnsLookupHost => parses::<DnsLookupHost>(input),
        Op::CanI => parses::<CanI>(input),
        Op::GetResource => parses::<GetResource>(input),
        Op::ListResourcesByNamespace => {
            parses::<ListResourcesByNamespace>(input).and_then(|()| typed_kind(input))
        }
        Op::ListResourcesAll => parses::<ListResourcesAll>(input).and_then(|()| typed_kind(input)),
    }
}
