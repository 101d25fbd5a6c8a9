//! How each SDK's types hold the members of the decoded view: the one table the
//! equivalences consult (docs/decoded-view.md, "Equality", is generated from it).
//!
//! The Go SDK's image-spec types hold strings, integers and booleans as plain values and
//! some structs by value: those cannot represent absence, so a Go policy sees the zero
//! value whether the document had nothing or the zero value. Go pointers, slices, maps
//! and `[]byte` can (nil), and so can every Rust `Option`: a guest with no table can
//! tell absent from everything. The Rust SDK needs a table for its Kubernetes objects
//! only: k8s-openapi types write `apiVersion` and `kind` from the type, and hold
//! `metadata` and a list's `items` by value.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::case::Op;

/// The Go SDK's module path, as its guests `describe` it.
pub const GO_SDK: &str = "github.com/kubewarden/policy-sdk-go";
/// The Rust SDK's crate name, as its guests `describe` it.
pub const RUST_SDK: &str = "kubewarden-policy-sdk";

/// How an SDK type holds one member of the view.
#[derive(Debug)]
pub enum SdkType {
    /// A plain Go `string` (or a string type such as `digest.Digest`).
    String,
    /// A plain Go integer.
    Int,
    /// A plain Go `bool`.
    Bool,
    /// A Go struct held by value: always present, its members zero when missing.
    Struct(&'static GoStruct),
    /// A Go pointer to a struct: nil (absent) when missing.
    Pointer(&'static GoStruct),
    /// A Go slice: nil (absent) when missing.
    Slice(&'static SdkType),
    /// A Go map (sets are recorded in the view as sorted lists): nil when missing.
    Map,
    /// A Go `[]byte`, base64 in JSON, recorded as `{"bytes": …}`: nil when missing.
    Bytes,
    /// A Go `*time.Time`, recorded as RFC 3339 text the guest prints back: nil when missing.
    Time,
    /// A Rust `Vec` held by value (k8s-openapi's `List.items`): `[]` when missing.
    Vec(&'static SdkType),
    /// A member a Rust k8s-openapi type writes from the type itself (`apiVersion`,
    /// `kind`): present whatever the document held, since deserialisation refuses any
    /// other value and accepts none.
    Implied,
    /// A Rust struct with the listed members, every other member [`SdkType::Options`].
    Open(&'static GoStruct),
    /// A Rust value read through `Option`s (k8s-openapi's optional members): `null`
    /// reads as `None`, which the view leaves out; so does everything below it.
    Options,
}

/// A Go struct: its name and its members (view key, Go field, how it is held).
#[derive(Debug)]
pub struct GoStruct {
    pub name: &'static str,
    pub members: &'static [(&'static str, &'static str, SdkType)],
}

impl SdkType {
    /// The type of `key` inside a value of this type (through pointers).
    pub fn member(&self, key: &str) -> Option<&'static SdkType> {
        match self {
            SdkType::Struct(s) | SdkType::Pointer(s) => {
                s.members.iter().find(|(k, _, _)| *k == key).map(|(_, _, t)| t)
            }
            SdkType::Open(s) => {
                Some(s.members.iter().find(|(k, _, _)| *k == key).map_or(&OPTIONS, |(_, _, t)| t))
            }
            SdkType::Options => Some(&OPTIONS),
            _ => None,
        }
    }

    /// The type of the elements of a slice.
    pub fn element(&self) -> Option<&'static SdkType> {
        match self {
            SdkType::Slice(t) | SdkType::Vec(t) => Some(t),
            SdkType::Options => Some(&OPTIONS),
            _ => None,
        }
    }

    /// What the guest's view holds when the document had nothing here, for types that
    /// cannot be absent; `None` for types that can.
    pub fn zero(&self) -> Option<Value> {
        match self {
            SdkType::String => Some(json!("")),
            SdkType::Int => Some(json!(0)),
            SdkType::Bool => Some(json!(false)),
            SdkType::Struct(s) | SdkType::Open(s) => Some(Value::Object(
                s.members
                    .iter()
                    .filter_map(|(k, _, t)| Some((k.to_string(), t.zero()?)))
                    .collect::<Map<_, _>>(),
            )),
            SdkType::Vec(_) => Some(json!([])),
            SdkType::Pointer(_)
            | SdkType::Slice(_)
            | SdkType::Map
            | SdkType::Bytes
            | SdkType::Time
            | SdkType::Implied
            | SdkType::Options => None,
        }
    }

    fn go_name(&self) -> String {
        match self {
            SdkType::String => "string".into(),
            SdkType::Int => "int".into(),
            SdkType::Bool => "bool".into(),
            SdkType::Struct(s) => s.name.into(),
            SdkType::Pointer(s) => format!("*{}", s.name),
            SdkType::Slice(t) => format!("[]{}", t.go_name()),
            SdkType::Map => "map".into(),
            SdkType::Bytes => "[]byte".into(),
            SdkType::Time => "*time.Time".into(),
            SdkType::Vec(t) => format!("Vec<{}>", t.go_name()),
            SdkType::Implied => "implied by the type".into(),
            SdkType::Open(s) => s.name.into(),
            SdkType::Options => "Option".into(),
        }
    }
}

static STRING: SdkType = SdkType::String;

// image-spec v1.1.1, specs-go/v1, as policy-sdk-go v0.12 and v0.13 use it (v1.1.0, which v0.11
// uses, declares the same members).
static PLATFORM: GoStruct = GoStruct {
    name: "Platform",
    members: &[
        ("architecture", "Architecture", SdkType::String),
        ("os", "OS", SdkType::String),
        ("os.version", "OSVersion", SdkType::String),
        ("os.features", "OSFeatures", SdkType::Slice(&STRING)),
        ("variant", "Variant", SdkType::String),
    ],
};

static DESCRIPTOR: GoStruct = GoStruct {
    name: "Descriptor",
    members: &[
        ("mediaType", "MediaType", SdkType::String),
        ("digest", "Digest", SdkType::String),
        ("size", "Size", SdkType::Int),
        ("urls", "URLs", SdkType::Slice(&STRING)),
        ("annotations", "Annotations", SdkType::Map),
        ("data", "Data", SdkType::Bytes),
        ("platform", "Platform", SdkType::Pointer(&PLATFORM)),
        ("artifactType", "ArtifactType", SdkType::String),
    ],
};

static DESCRIPTOR_VALUE: SdkType = SdkType::Struct(&DESCRIPTOR);

static MANIFEST: GoStruct = GoStruct {
    name: "Manifest",
    members: &[
        ("schemaVersion", "SchemaVersion", SdkType::Int),
        ("mediaType", "MediaType", SdkType::String),
        ("artifactType", "ArtifactType", SdkType::String),
        ("config", "Config", SdkType::Struct(&DESCRIPTOR)),
        ("layers", "Layers", SdkType::Slice(&DESCRIPTOR_VALUE)),
        ("subject", "Subject", SdkType::Pointer(&DESCRIPTOR)),
        ("annotations", "Annotations", SdkType::Map),
    ],
};

static INDEX: GoStruct = GoStruct {
    name: "Index",
    members: &[
        ("schemaVersion", "SchemaVersion", SdkType::Int),
        ("mediaType", "MediaType", SdkType::String),
        ("artifactType", "ArtifactType", SdkType::String),
        ("manifests", "Manifests", SdkType::Slice(&DESCRIPTOR_VALUE)),
        ("subject", "Subject", SdkType::Pointer(&DESCRIPTOR)),
        ("annotations", "Annotations", SdkType::Map),
    ],
};

static IMAGE_CONFIG: GoStruct = GoStruct {
    name: "ImageConfig",
    members: &[
        ("User", "User", SdkType::String),
        ("ExposedPorts", "ExposedPorts", SdkType::Map),
        ("Env", "Env", SdkType::Slice(&STRING)),
        ("Entrypoint", "Entrypoint", SdkType::Slice(&STRING)),
        ("Cmd", "Cmd", SdkType::Slice(&STRING)),
        ("Volumes", "Volumes", SdkType::Map),
        ("WorkingDir", "WorkingDir", SdkType::String),
        ("Labels", "Labels", SdkType::Map),
        ("StopSignal", "StopSignal", SdkType::String),
        ("ArgsEscaped", "ArgsEscaped", SdkType::Bool),
    ],
};

static ROOTFS: GoStruct = GoStruct {
    name: "RootFS",
    members: &[("type", "Type", SdkType::String), ("diff_ids", "DiffIDs", SdkType::Slice(&STRING))],
};

static HISTORY: GoStruct = GoStruct {
    name: "History",
    members: &[
        ("created", "Created", SdkType::Time),
        ("created_by", "CreatedBy", SdkType::String),
        ("author", "Author", SdkType::String),
        ("comment", "Comment", SdkType::String),
        ("empty_layer", "EmptyLayer", SdkType::Bool),
    ],
};

static HISTORY_VALUE: SdkType = SdkType::Struct(&HISTORY);

/// `Image`, with its embedded `Platform` flattened as encoding/json does.
static IMAGE: GoStruct = GoStruct {
    name: "Image",
    members: &[
        ("created", "Created", SdkType::Time),
        ("author", "Author", SdkType::String),
        ("architecture", "Platform.Architecture", SdkType::String),
        ("os", "Platform.OS", SdkType::String),
        ("os.version", "Platform.OSVersion", SdkType::String),
        ("os.features", "Platform.OSFeatures", SdkType::Slice(&STRING)),
        ("variant", "Platform.Variant", SdkType::String),
        ("config", "Config", SdkType::Struct(&IMAGE_CONFIG)),
        ("rootfs", "RootFS", SdkType::Struct(&ROOTFS)),
        ("history", "History", SdkType::Slice(&HISTORY_VALUE)),
    ],
};

// policy-sdk-go: the response types of its OCI capabilities.
static DIGEST_RESPONSE: GoStruct =
    GoStruct { name: "manifest_digest (string)", members: &[("digest", "(return value)", SdkType::String)] };

static MANIFEST_AND_CONFIG: GoStruct = GoStruct {
    name: "OciImageManifestAndConfigResponse",
    members: &[
        ("manifest", "Manifest", SdkType::Pointer(&MANIFEST)),
        ("digest", "Digest", SdkType::String),
        ("config", "ImageConfig", SdkType::Pointer(&IMAGE)),
    ],
};

// policy-sdk-go: the response types of its other capabilities.
static VERIFICATION_RESPONSE: GoStruct = GoStruct {
    name: "oci.VerificationResponse",
    members: &[("is_trusted", "IsTrusted", SdkType::Bool), ("digest", "Digest", SdkType::String)],
};

static CERTIFICATE_VERIFICATION_RESPONSE: GoStruct = GoStruct {
    name: "crypto.CertificateVerificationResponse",
    members: &[("trusted", "Trusted", SdkType::Bool), ("reason", "Reason", SdkType::String)],
};

static LOOKUP_HOST: GoStruct = GoStruct {
    name: "net.LookupHost ([]string)",
    members: &[("ips", "(return value)", SdkType::Slice(&STRING))],
};

static SUBJECT_ACCESS_REVIEW_STATUS: GoStruct = GoStruct {
    name: "kubernetes.SubjectAccessReviewStatus",
    members: &[
        ("allowed", "Allowed", SdkType::Bool),
        ("denied", "Denied", SdkType::Bool),
        ("reason", "Reason", SdkType::String),
        ("evaluationError", "EvaluationError", SdkType::String),
    ],
};

static IMAGE_ROOT: SdkType = SdkType::Struct(&MANIFEST);
static INDEX_ROOT: SdkType = SdkType::Struct(&INDEX);
static DIGEST_ROOT: SdkType = SdkType::Struct(&DIGEST_RESPONSE);
static MANIFEST_AND_CONFIG_ROOT: SdkType = SdkType::Struct(&MANIFEST_AND_CONFIG);
static VERIFICATION_ROOT: SdkType = SdkType::Struct(&VERIFICATION_RESPONSE);
static CERTIFICATE_VERIFICATION_ROOT: SdkType = SdkType::Struct(&CERTIFICATE_VERIFICATION_RESPONSE);
static LOOKUP_HOST_ROOT: SdkType = SdkType::Struct(&LOOKUP_HOST);
static SUBJECT_ACCESS_REVIEW_ROOT: SdkType = SdkType::Struct(&SUBJECT_ACCESS_REVIEW_STATUS);

// The Rust SDK's Kubernetes objects (k8s-openapi 0.28): the envelope, and `Option`s
// below it. Deeper members k8s-openapi holds by value (a container's `name`, a pod's
// `containers`) are not listed, so a difference there is reported.
static OPTIONS: SdkType = SdkType::Options;
static OBJECT_META: GoStruct = GoStruct { name: "ObjectMeta", members: &[] };
static LIST_META: GoStruct = GoStruct { name: "ListMeta", members: &[] };
static K8S_OBJECT: GoStruct = GoStruct {
    name: "k8s-openapi resource",
    members: &[
        ("apiVersion", "API_VERSION", SdkType::Implied),
        ("kind", "KIND", SdkType::Implied),
        ("metadata", "metadata", SdkType::Open(&OBJECT_META)),
    ],
};
static K8S_OBJECT_ROOT: SdkType = SdkType::Open(&K8S_OBJECT);
static K8S_LIST: GoStruct = GoStruct {
    name: "k8s_openapi::List",
    members: &[
        ("apiVersion", "API_VERSION", SdkType::Implied),
        ("kind", "KIND", SdkType::Implied),
        ("metadata", "metadata", SdkType::Open(&LIST_META)),
        ("items", "items", SdkType::Vec(&K8S_OBJECT_ROOT)),
    ],
};
static K8S_LIST_ROOT: SdkType = SdkType::Open(&K8S_LIST);

/// How `sdk`'s types hold the view of an `op` result of `kind`; `None` when the SDK's
/// types can tell absent from every value or are not known.
pub fn view_type(sdk: &str, op: Op, kind: Option<&str>) -> Option<&'static SdkType> {
    if sdk == RUST_SDK {
        return match op {
            Op::GetResource => Some(&K8S_OBJECT_ROOT),
            Op::ListResourcesByNamespace | Op::ListResourcesAll => Some(&K8S_LIST_ROOT),
            _ => None,
        };
    }
    if sdk != GO_SDK {
        return None;
    }
    match (op, kind) {
        (Op::OciManifest, Some("image")) => Some(&IMAGE_ROOT),
        (Op::OciManifest, Some("index")) => Some(&INDEX_ROOT),
        (Op::ManifestDigest, _) => Some(&DIGEST_ROOT),
        (Op::OciManifestConfig, _) => Some(&MANIFEST_AND_CONFIG_ROOT),
        (
            Op::VerifyPubKeys
            | Op::VerifyKeylessExact
            | Op::VerifyKeylessPrefix
            | Op::VerifyGithubActions
            | Op::VerifyCertificate,
            _,
        ) => Some(&VERIFICATION_ROOT),
        (Op::IsCertificateTrusted, _) => Some(&CERTIFICATE_VERIFICATION_ROOT),
        (Op::DnsLookupHost, _) => Some(&LOOKUP_HOST_ROOT),
        (Op::CanI, _) => Some(&SUBJECT_ACCESS_REVIEW_ROOT),
        _ => None,
    }
}

/// The Markdown table of docs/decoded-view.md: for each Go struct, the members that
/// cannot be absent (where `zero-value-is-absent` may apply) and those that can.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| Go type | always present: the zero value when missing | absent (nil) when missing |\n\
         |---------|----------------------------------------------|---------------------------|\n",
    );
    for s in [
        &MANIFEST,
        &INDEX,
        &DESCRIPTOR,
        &PLATFORM,
        &MANIFEST_AND_CONFIG,
        &IMAGE,
        &IMAGE_CONFIG,
        &ROOTFS,
        &HISTORY,
        &VERIFICATION_RESPONSE,
        &CERTIFICATE_VERIFICATION_RESPONSE,
        &LOOKUP_HOST,
        &SUBJECT_ACCESS_REVIEW_STATUS,
    ] {
        let list = |can_be_absent: bool| {
            s.members
                .iter()
                .filter(|(_, _, t)| t.zero().is_none() == can_be_absent)
                .map(|(key, _, t)| format!("`{key}` ({})", t.go_name()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(out, "| `{}` | {} | {} |", s.name, list(false), list(true));
    }
    out
}
