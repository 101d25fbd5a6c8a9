//! The case-file types: one manifest-fetch scenario (docs/case-format.md).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use base64::Engine as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A host capability both SDKs offer, as named in case files and on the guest protocol.
/// The five `verify_*` operations are the five request variants of `v2/verify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    OciManifest,
    ManifestDigest,
    OciManifestConfig,
    VerifyPubKeys,
    VerifyKeylessExact,
    VerifyKeylessPrefix,
    VerifyGithubActions,
    VerifyCertificate,
    IsCertificateTrusted,
    DnsLookupHost,
    CanI,
    GetResource,
    ListResourcesByNamespace,
    ListResourcesAll,
}

impl Op {
    pub const ALL: [Op; 14] = [
        Op::OciManifest,
        Op::ManifestDigest,
        Op::OciManifestConfig,
        Op::VerifyPubKeys,
        Op::VerifyKeylessExact,
        Op::VerifyKeylessPrefix,
        Op::VerifyGithubActions,
        Op::VerifyCertificate,
        Op::IsCertificateTrusted,
        Op::DnsLookupHost,
        Op::CanI,
        Op::GetResource,
        Op::ListResourcesByNamespace,
        Op::ListResourcesAll,
    ];

    /// The operations on an image reference alone: a case gives them `image`, not `input`.
    pub const OCI: [Op; 3] = [Op::OciManifest, Op::ManifestDigest, Op::OciManifestConfig];

    /// The name used in case files and as the guest protocol's operation.
    pub fn name(self) -> &'static str {
        match self {
            Op::OciManifest => "oci_manifest",
            Op::ManifestDigest => "manifest_digest",
            Op::OciManifestConfig => "oci_manifest_config",
            Op::VerifyPubKeys => "verify_pub_keys",
            Op::VerifyKeylessExact => "verify_keyless_exact",
            Op::VerifyKeylessPrefix => "verify_keyless_prefix",
            Op::VerifyGithubActions => "verify_github_actions",
            Op::VerifyCertificate => "verify_certificate",
            Op::IsCertificateTrusted => "is_certificate_trusted",
            Op::DnsLookupHost => "dns_lookup_host",
            Op::CanI => "can_i",
            Op::GetResource => "get_resource",
            Op::ListResourcesByNamespace => "list_resources_by_namespace",
            Op::ListResourcesAll => "list_resources_all",
        }
    }

    /// The namespace and operation of the host call the SDKs make (binding `kubewarden`).
    pub fn host_call(self) -> (&'static str, &'static str) {
        match self {
            Op::OciManifest => ("oci", "v1/oci_manifest"),
            Op::ManifestDigest => ("oci", "v1/manifest_digest"),
            Op::OciManifestConfig => ("oci", "v1/oci_manifest_config"),
            Op::VerifyPubKeys
            | Op::VerifyKeylessExact
            | Op::VerifyKeylessPrefix
            | Op::VerifyGithubActions
            | Op::VerifyCertificate => ("oci", "v2/verify"),
            Op::IsCertificateTrusted => ("crypto", "v1/is_certificate_trusted"),
            Op::DnsLookupHost => ("net", "v1/dns_lookup_host"),
            Op::CanI => ("kubernetes", "can_i"),
            Op::GetResource => ("kubernetes", "get_resource"),
            Op::ListResourcesByNamespace => ("kubernetes", "list_resources_by_namespace"),
            Op::ListResourcesAll => ("kubernetes", "list_resources_all"),
        }
    }

    /// The host-capability operation the SDKs send (`host_call(_, _, operation, _)`).
    pub fn host_operation(self) -> &'static str {
        self.host_call().1
    }

    /// Whether the case names the image alone (`image`) rather than the SDK function's
    /// inputs (`input`).
    pub fn is_oci(self) -> bool {
        Op::OCI.contains(&self)
    }

    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A guest request: the inputs of the SDK function, by name (docs/guest-protocol.md).
pub type Input = serde_json::Map<String, serde_json::Value>;

/// Where a case's response bytes come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Bytes the real Kubewarden host sends today (re-serialised by oci-client or kube-core).
    HostRelayed,
    /// Bytes as their source serves them (a registry, the Kubernetes API server) or a tool
    /// holds them; another host may send them verbatim.
    RegistryRaw,
    /// Written by hand to exercise one behaviour.
    Synthetic,
    /// An exchange recorded by `kwctl run --record-host-capabilities-interactions`.
    KwctlSession,
    /// Found and shrunk by `kwconform fuzz`.
    Fuzz,
}

/// The host's answer to the guest's host call.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ResponseSpec {
    /// A JSON value, sent as written in the case file minus insignificant whitespace
    /// (key order, duplicate keys and number spellings are kept).
    Json(#[schemars(with = "serde_json::Value")] Box<RawValue>),
    /// Exact text, sent as its UTF-8 bytes.
    Text(String),
    /// Exact bytes, standard base64 (for bytes that are not UTF-8).
    Base64(String),
    /// A file whose bytes are sent verbatim; relative to the case file.
    File(PathBuf),
    /// The host's callback fails with this message, as kwctl records it; the guest
    /// receives it as the host wraps it (`Callback evaluation failure: <message>`).
    HostError(String),
}

impl ResponseSpec {
    /// A response written inline, byte for byte: text when it is UTF-8, base64 when not.
    pub fn inline(response: &HostResponse) -> ResponseSpec {
        match response {
            HostResponse::Error(message) => ResponseSpec::HostError(message.clone()),
            HostResponse::Success(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => ResponseSpec::Text(text.to_string()),
                Err(_) => ResponseSpec::Base64(base64::engine::general_purpose::STANDARD.encode(bytes)),
            },
        }
    }
}

/// Where real data came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How much a case's disagreement matters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Both SDKs must agree; a disagreement fails the run unless it is expected.
    #[default]
    Required,
    /// A disagreement is shown but never fails the run (e.g. request byte escaping).
    Informational,
}

/// What one guest is expected to do with a case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestExpectation {
    pub outcome: OutcomeClass,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// The outcome classes a guest result falls into (docs/decoded-view.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeClass {
    Ok,
    Error,
    EngineError,
}

impl fmt::Display for OutcomeClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OutcomeClass::Ok => "ok",
            OutcomeClass::Error => "error",
            OutcomeClass::EngineError => "engine-error",
        })
    }
}

/// What the case's author expects each guest (by name) to do. It pins each SDK's
/// behaviour on the case; whether a disagreement is acceptable is the business of
/// the expectations list (`cases/expectations.json`), not of the case.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub guests: BTreeMap<String, GuestExpectation>,
}

/// A case file as written (docs/case-format.md). Parsing is strict.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    pub id: String,
    pub description: String,
    pub op: Op,
    /// The image reference, for the three OCI operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The SDK function's inputs, for every other operation (docs/case-format.md, "Inputs").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub input: Option<serde_json::Map<String, serde_json::Value>>,
    pub response: ResponseSpec,
    pub origin: Origin,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    /// Where the OCI image-spec or the Kubewarden docs speak to this behaviour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub level: Level,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// The host's side of the exchange, resolved to bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostResponse {
    /// The response bytes the host sends.
    Success(Vec<u8>),
    /// The message the host's callback failed with (not what the guest reads: see
    /// `host::HostScript::answer`).
    Error(String),
}

impl HostResponse {
    /// The bytes sent or the message's.
    pub fn len(&self) -> usize {
        match self {
            HostResponse::Success(bytes) => bytes.len(),
            HostResponse::Error(message) => message.len(),
        }
    }
}

impl Case {
    /// The image reference the request names, if it names one.
    pub fn image(&self) -> &str {
        self.input.get("image").and_then(|v| v.as_str()).unwrap_or("")
    }

    /// The guest request: the case's inputs on one line.
    pub fn request(&self) -> Vec<u8> {
        serde_json::to_vec(&self.input).expect("a JSON map serialises")
    }

    /// A case a fuzz campaign made in memory: no file, no provenance, no expectations.
    pub fn fuzz_input(id: impl Into<String>, op: Op, input: Input, response: HostResponse) -> Case {
        Case {
            id: id.into(),
            description: String::new(),
            op,
            input,
            response,
            origin: Origin::Fuzz,
            provenance: None,
            spec: None,
            tags: Vec::new(),
            level: Level::Required,
            expect: None,
            source: "fuzz".into(),
        }
    }

    /// The guest request of an OCI operation on `image`.
    pub fn image_input(image: &str) -> Input {
        serde_json::Map::from_iter([("image".to_string(), serde_json::Value::from(image))])
    }

    /// The case as a self-contained case file: the response inline, exact bytes kept.
    pub fn to_file(&self) -> CaseFile {
        CaseFile {
            id: self.id.clone(),
            description: self.description.clone(),
            op: self.op,
            image: self.op.is_oci().then(|| self.image().to_string()),
            input: (!self.op.is_oci()).then(|| self.input.clone()),
            response: ResponseSpec::inline(&self.response),
            origin: self.origin,
            provenance: self.provenance.clone(),
            spec: self.spec.clone(),
            tags: self.tags.clone(),
            level: self.level,
            expect: self.expect.clone(),
        }
    }
}

/// A loaded case: the file's content with the response resolved to bytes.
#[derive(Clone, Debug)]
pub struct Case {
    pub id: String,
    pub description: String,
    pub op: Op,
    /// The guest request: `{"image": …}` for the OCI operations, the case's `input`
    /// for the others.
    pub input: Input,
    pub response: HostResponse,
    pub origin: Origin,
    pub provenance: Option<Provenance>,
    pub spec: Option<String>,
    pub tags: Vec<String>,
    pub level: Level,
    pub expect: Option<Expect>,
    /// The file the case came from.
    pub source: PathBuf,
}
