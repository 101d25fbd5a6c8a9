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
    }
}
