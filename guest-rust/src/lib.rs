//! kwconform guest for the Kubewarden Rust SDK, speaking waPC.
//!
//! One waPC function per operation (docs/guest-protocol.md). Each takes the case's
//! inputs (`{"image": "..."}` for the OCI operations), calls the SDK's public function
//! with them, which does its own request encoding and host call, and answers with the
//! decoded view of what the SDK returned or with the SDK's error. This file only
//! dispatches and maps inputs onto parameters; `view` projects the OCI results.

mod view;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kubewarden_policy_sdk::host_capabilities::crypto::{
    self, BoolWithReason, Certificate, CertificateEncoding,
};
use kubewarden_policy_sdk::host_capabilities::kubernetes::{
    self, CanIRequest, GetResourceRequest, ListAllResourcesRequest, ListResourcesByNamespaceRequest,
    ResourceAttributes, SubjectAccessReview,
};
use kubewarden_policy_sdk::host_capabilities::verification::{
    self, KeylessInfo, KeylessPrefixInfo, VerificationResponse,
};
use kubewarden_policy_sdk::host_capabilities::{net, oci};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use wapc_guest::{CallResult, register_function};

const PROTOCOL_VERSION: u32 = 1;

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("describe", describe);
    register_function("oci_manifest", oci_manifest);
    register_function("manifest_digest", manifest_digest);
    register_function("oci_manifest_config", oci_manifest_config);
    for (name, function) in OPERATIONS {
        register_function(name, *function);
    }
}

/// The operations beyond the three OCI ones, each on its JSON inputs.
const OPERATIONS: &[(&str, fn(&[u8]) -> CallResult)] = &[
    ("verify_pub_keys", verify_pub_keys),
    ("verify_keyless_exact", verify_keyless_exact),
    ("verify_keyless_prefix", verify_keyless_prefix),
    ("verify_github_actions", verify_github_actions),
    ("verify_certificate", verify_certificate),
    ("is_certificate_trusted", is_certificate_trusted),
    ("dns_lookup_host", dns_lookup_host),
    ("can_i", can_i),
    ("get_resource", get_resource),
    ("list_resources_by_namespace", list_resources_by_namespace),
    ("list_resources_all", list_resources_all),
];

fn describe(_: &[u8]) -> CallResult {
    let oci = ["oci_manifest", "manifest_digest", "oci_manifest_config"];
    let ops: Vec<&str> = oci.into_iter().chain(OPERATIONS.iter().map(|(name, _)| *name)).collect();
    answer(json!({
        "protocol": PROTOCOL_VERSION,
        "sdk": "kubewarden-policy-sdk",
        "sdk_version": env!("KWCONFORM_SDK_VERSION"),
        "sdk_source": serde_json::from_str::<Value>(env!("KWCONFORM_SDK_SOURCE"))?,
        "ops": ops,
    }))
}

fn oci_manifest(request: &[u8]) -> CallResult {
    answer(match oci::get_manifest(&image(request)?) {
        Ok(oci::OciManifestResponse::Image(m)) => ok(Some("image"), view::manifest(&m)),
        Ok(oci::OciManifestResponse::ImageIndex(i)) => ok(Some("index"), view::index(&i)),
        Err(e) => sdk_error(e),
    })
}

fn manifest_digest(request: &[u8]) -> CallResult {
    answer(match oci::get_manifest_digest(&image(request)?) {
        Ok(r) => ok(None, json!({ "digest": r.digest })),
        Err(e) => sdk_error(e),
    })
}

fn oci_manifest_config(request: &[u8]) -> CallResult {
    answer(match oci::get_manifest_and_config(&image(request)?) {
        Ok(r) => ok(None, view::manifest_and_config(&r)),
        Err(e) => sdk_error(e),
    })
}

type Annotations = Option<BTreeMap<String, String>>;

fn verify_pub_keys(request: &[u8]) -> CallResult {
    let i = Inputs::parse(request)?;
    verified(verification::verify_pub_keys_image(
        &i.get::<String>("image")?,
        i.list("pub_keys")?,
        i.get::<Annotations>("annotations")?,
    ))
}

fn verify_keyless_exact(request: &[u8]) -> CallResult {
    let i = Inputs::parse(request)?;
    let keyless = i.list::<Value>("keyless")?;
    let keyless =
        keyless.iter().map(|k| Ok(KeylessInfo { issuer: text(k, "issuer")?, subject: text(k, "subject")? }));
    verified(verification::verify_keyless_exact_match(
        &i.get::<String>("image")?,
        keyless.collect::<Result<_, Error>>()?,
        i.get::<Annotations>("annotations")?,
    ))
}

fn verify_keyless_prefix(request: &[u8]) -> CallResult {
    let i = Inputs::parse(request)?;
    let prefixes = i.list::<Value>("keyless_prefix")?;
    let prefixes = prefixes
        .iter()
        .map(|k| Ok(KeylessPrefixInfo { issuer: text(k, "issuer")?, url_prefix: text(k, "url_prefix")? }));
    verified(verification::verify_keyless_prefix_match(
        &i.get::<String>("image")?,
        prefixes.collect::<Result<_, Error>>()?,
        i.get::<Annotations>("annotations")?,
    ))
}

fn verify_github_actions(request: &[u8]) -> CallResult {
    let i = Inputs::parse(request)?;
    verified(verification::verify_keyless_github_actions(
        &i.get::<String>("image")?,
        i.get("owner")?,
        i.get("repo")?,
        i.get::<Annotations>("annotations")?,
    ))
}

fn verify_certificate(request: &[u8]) -> CallResult {
    let i = Inputs::parse(request)?;
    verified(verification::verify_certificate(
        &i.get::<String>("image")?,
        i.get("certificate")?,
        i.get("certificate_chain")?,
        i.get("require_rekor_bundle")?,
        i.get::<Annotations>("annotations")?,
    ))
}

/// `{is_trusted, digest}`, both always present in the SDK's type.
fn verified(result: Result<VerificationResponse, impl std::fmt::Display>) -> CallResult {
    answer(match result {
        Ok(r) => ok(None, json!({ "is_trusted": r.is_trusted, "digest": r.digest })),
        Err(e) => sdk_error(e),
    })
}

fn is_certificate_trusted(request: &[u8]) -> CallResult {
    let i = Inputs::parse(request)?;
    let certificate = |c: &Value| -> Result<Certificate, Error> {
        let encoding = match text(c, "encoding")?.as_str() {
            "Der" => CertificateEncoding::Der,
            "Pem" => CertificateEncoding::Pem,
            other => return Err(format!("unknown certificate encoding {other:?}").into()),
        };
        Ok(Certificate { encoding, data: text(c, "data")?.into_bytes() })
    };
    let chain = match i.get::<Option<Vec<Value>>>("cert_chain")? {
        Some(chain) => Some(chain.iter().map(certificate).collect::<Result<_, _>>()?),
        None => None,
    };
    let result = crypto::verify_cert(certificate(&i.get("cert")?)?, chain, i.get("not_after")?);
    // The SDK's answer carries a reason only when the certificate is not trusted.
    answer(match result {
        Ok(BoolWithReason::True) => ok(None, json!({ "trusted": true })),
        Ok(BoolWithReason::False(reason)) => ok(None, json!({ "trusted": false, "reason": reason })),
        Err(e) => sdk_error(e),
    })
}

fn dns_lookup_host(request: &[u8]) -> CallResult {
    let i = Inputs::parse(request)?;
    answer(match net::lookup_host(&i.get::<String>("host")?) {
        Ok(r) => ok(None, json!({ "ips": r.ips })),
        Err(e) => sdk_error(e),
    })
}

fn can_i(request: &[u8]) -> CallResult {
    let i = Inputs::parse(request)?;
    let attributes = Inputs(i.get("resource_attributes")?);
    let request = CanIRequest {
        subject_access_review: SubjectAccessReview {
            groups: i.get("groups")?,
            resource_attributes: ResourceAttributes {
                group: attributes.get("group")?,
                name: attributes.get("name")?,
                namespace: attributes.get("namespace")?,
                resource: attributes.get("resource")?,
                subresource: attributes.get("subresource")?,
                verb: attributes.get("verb")?,
                version: attributes.get("version")?,
            },
            user: i.get("user")?,
        },
        disable_cache: i.get("disable_cache")?,
    };
    // k8s-openapi's SubjectAccessReviewStatus: `None` members are absent.
    answer(match kubernetes::can_i(request) {
        Ok(s) => {
            let mut view = serde_json::Map::new();
            view.insert("allowed".into(), json!(s.allowed));
            let optional = [
                ("denied", s.denied.map(Value::from)),
                ("reason", s.reason.map(Value::from)),
                ("evaluationError", s.evaluation_error.map(Value::from)),
            ];
            view.extend(optional.into_iter().filter_map(|(k, v)| Some((k.to_string(), v?))));
            ok(None, Value::Object(view))
        }
        Err(e) => sdk_error(e),
    })
}

type Error = Box<dyn std::error::Error + Send + Sync>;
/// Calls `$f::<T>($arg)` with the k8s-openapi type `T` of the kind, as a Rust policy
/// names the type it expects (the runner's `TYPED_KINDS`), or evaluates `$other`.
macro_rules! by_kind {
    ($api_version:expr, $kind:expr, $f:ident($arg:expr), $other:expr) => {
        match ($api_version, $kind) {
            ("v1", "Namespace") => $f::<Namespace>($arg),
            ("v1", "Pod") => $f::<Pod>($arg),
            ("v1", "Service") => $f::<Service>($arg),
            ("v1", "ConfigMap") => $f::<ConfigMap>($arg),
            ("apps/v1", "Deployment") => $f::<Deployment>($arg),
            ("networking.k8s.io/v1", "Ingress") => $f::<Ingress>($arg),
            _ => $other,
        }
    };
}

fn get_resource(request: &[u8]) -> CallResult {
    let i = Inputs::parse(request)?;
    let request = GetResourceRequest {
        api_version: i.get("api_version")?,
        kind: i.get("kind")?,
        name: i.get("name")?,
        namespace: i.get("namespace")?,
        disable_cache: i.get("disable_cache")?,
        field_masks: i.get("field_masks")?,
    };
    fn get<T: DeserializeOwned + Clone + Serialize>(request: &GetResourceRequest) -> CallResult {
        serialised(kubernetes::get_resource::<T>(request))
    }
    // A kind k8s-openapi has no type for is read as JSON, as a policy reads a custom resource.
    by_kind!(request.api_version.as_str(), request.kind.as_str(), get(&request), get::<Value>(&request))
}

fn list_resources_by_namespace(request: &[u8]) -> CallResult {
    let i = Inputs::parse(request)?;
    let request = ListResourcesByNamespaceRequest {
        api_version: i.get("api_version")?,
        kind: i.get("kind")?,
        namespace: i.get("namespace")?,
        label_selector: i.get("label_selector")?,
        field_selector: i.get("field_selector")?,
        field_masks: i.get("field_masks")?,
    };
    fn list<T: k8s_openapi::ListableResource + DeserializeOwned + Clone + Serialize>(
        request: &ListResourcesByNamespaceRequest,
    ) -> CallResult {
        serialised(kubernetes::list_resources_by_namespace::<T>(request))
    }
    by_kind!(request.api_version.as_str(), request.kind.as_str(), list(&request), Err(NO_TYPE.into()))
}

fn list_resources_all(request: &[u8]) -> CallResult {
    let i = Inputs::parse(request)?;
    let request = ListAllResourcesRequest {
        api_version: i.get("api_version")?,
        kind: i.get("kind")?,
        label_selector: i.get("label_selector")?,
        field_selector: i.get("field_selector")?,
        field_masks: i.get("field_masks")?,
    };
    fn list<T: k8s_openapi::ListableResource + DeserializeOwned + Clone + Serialize>(
        request: &ListAllResourcesRequest,
    ) -> CallResult {
        serialised(kubernetes::list_all_resources::<T>(request))
    }
    by_kind!(request.api_version.as_str(), request.kind.as_str(), list(&request), Err(NO_TYPE.into()))
}

/// The view of a Kubernetes result: the k8s-openapi value serialised back.
fn serialised(result: Result<impl Serialize, impl std::fmt::Display>) -> CallResult {
    answer(match result {
        Ok(value) => ok(None, serde_json::to_value(value)?),
        Err(e) => sdk_error(e),
    })
}

/// The runner refuses list cases of other kinds: this guest has no type to list them as.
const NO_TYPE: &str = "kwconform guest: no k8s-openapi type for this kind";

/// A request's inputs by name; absent and `null` are the same input (`None`).
struct Inputs(serde_json::Map<String, Value>);

impl Inputs {
    fn parse(request: &[u8]) -> Result<Inputs, Error> {
        Ok(Inputs(serde_json::from_slice(request)?))
    }

    fn get<T: DeserializeOwned>(&self, key: &str) -> Result<T, Error> {
        let value = self.0.get(key).cloned().unwrap_or(Value::Null);
        serde_json::from_value(value).map_err(|e| format!("input {key}: {e}").into())
    }

    /// A list input for a parameter that cannot be `None`: no list is an empty one.
    fn list<T: DeserializeOwned>(&self, key: &str) -> Result<Vec<T>, Error> {
        Ok(self.get::<Option<Vec<T>>>(key)?.unwrap_or_default())
    }
}

fn text(object: &Value, key: &str) -> Result<String, Error> {
    match object.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(format!("input member {key} is not a string").into()),
    }
}

/// The image reference of a `{"image": "..."}` request.
fn image(request: &[u8]) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let request: Value = serde_json::from_slice(request)?;
    match request.get("image") {
        Some(Value::String(image)) => Ok(image.clone()),
        _ => Err("request has no string \"image\"".into()),
    }
}

fn ok(kind: Option<&str>, view: Value) -> Value {
    json!({ "outcome": "ok", "kind": kind, "view": view })
}

fn sdk_error(error: impl std::fmt::Display) -> Value {
    json!({ "outcome": "error", "error": error.to_string() })
}

fn answer(result: Value) -> CallResult {
    Ok(serde_json::to_vec(&result)?)
}
