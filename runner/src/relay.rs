//! The real Kubewarden host's relay: what the host sends a guest for a registry
//! document. The host does not forward registry bytes; it parses them into oci-client
//! types and serialises those (compact, declaration order, unknown fields and `data`
//! dropped). This module runs the same oci-client code (the release the host uses)
//! on a raw case response.

use kubewarden_policy_sdk::host_capabilities::oci::ManifestDigestResponse;
use oci_client::errors::OciDistributionError;
use oci_client::manifest::{
    IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_INDEX_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE, OciImageManifest, OciManifest, Versioned,
};
use serde::{Deserialize, Serialize};

use serde_json::value::RawValue;

use crate::case::{Case, CaseFile, HostResponse, Op, Origin, ResponseSpec};

/// A raw response the relay cannot turn into what the host would send.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    /// For `oci_manifest_config` the host resolves an index to one platform's image
    /// manifest by fetching it from the registry; a case holds no second document.
    #[error(
        "the manifest is an index: the host would fetch its platform's image manifest, which the case does not hold"
    )]
    IndexNeedsPlatformResolution,
    /// The host builds these answers itself (a verification result, DNS addresses, a
    /// certificate check): there is no fetched document it transforms.
    #[error("the host builds the answer of {0} itself: there is no fetched document to relay")]
    NotRelayed(Op),
    /// The host re-serialises the API server's answer through kube-rs (docs/relay.md says
    /// how); kwconform does not model that yet.
    #[error(
        "the host re-serialises the API server's answer to {0} through kube-rs, which kwconform does not model yet (docs/relay.md)"
    )]
    KubernetesNotModelled(Op),
}

/// What the host sends for `response`, the raw answer to `op`. Documents the host
/// rejects become the host error it returns; host errors pass through unchanged.
pub fn relay(op: Op, response: &HostResponse) -> Result<HostResponse, RelayError> {
    let HostResponse::Success(bytes) = response else {
        return Ok(response.clone());
    };
    let relayed = match op {
        Op::OciManifest => pull_manifest(bytes).and_then(|m| to_vec(&m)),
        Op::ManifestDigest => serde_json::from_slice::<ManifestDigestResponse>(bytes)
            .map_err(|e| format!("cannot decode the manifest digest: {e}"))
            .and_then(|d| to_vec(&d)),
        Op::OciManifestConfig => return manifest_and_config(bytes),
        Op::CanI | Op::GetResource | Op::ListResourcesByNamespace | Op::ListResourcesAll => {
            return Err(RelayError::KubernetesNotModelled(op));
        }
        other => return Err(RelayError::NotRelayed(other)),
    };
    Ok(answer(relayed))
}

/// policy-evaluator's answer to `v1/oci_manifest_config` (its `ManifestAndConfigResponse`,
/// same fields in the same order): the config blob travels as a JSON value.
#[derive(Serialize)]
struct ManifestAndConfig {
    manifest: OciImageManifest,
    digest: String,
    config: serde_json::Value,
}

/// A raw `oci_manifest_config` case: the manifest, the digest and the config blob.
#[derive(Deserialize)]
struct RawManifestAndConfig {
    manifest: Box<serde_json::value::RawValue>,
    digest: String,
    config: Box<serde_json::value::RawValue>,
}

fn manifest_and_config(bytes: &[u8]) -> Result<HostResponse, RelayError> {
    let raw: RawManifestAndConfig = match serde_json::from_slice(bytes) {
        Ok(raw) => raw,
        Err(e) => return Ok(answer(Err(format!("cannot decode the manifest and config: {e}")))),
    };
    let manifest = match pull_manifest(raw.manifest.get().as_bytes()) {
        Ok(OciManifest::Image(manifest)) => manifest,
        Ok(OciManifest::ImageIndex(_)) => return Err(RelayError::IndexNeedsPlatformResolution),
        Err(e) => return Ok(answer(Err(e))),
    };
    let relayed = serde_json::from_str(raw.config.get())
        .map_err(|e| format!("cannot parse the config blob: {e}"))
        .and_then(|config| to_vec(&ManifestAndConfig { manifest, digest: raw.digest, config }));
    Ok(answer(relayed))
}

/// What oci-client's `Client::pull_manifest` does with a registry body after the
/// HTTP exchange: `validate_image_manifest` (a private method, mirrored here line for
/// line from oci-client 0.17.0 `src/client.rs`), then `serde_json::from_slice`.
fn pull_manifest(body: &[u8]) -> Result<OciManifest, String> {
    let versioned: Versioned = serde_json::from_slice(body)
        .map_err(|e| OciDistributionError::VersionedParsingError(e.to_string()).to_string())?;
    if versioned.schema_version != 2 {
        return Err(OciDistributionError::UnsupportedSchemaVersionError(versioned.schema_version).to_string());
    }
    if let Some(media_type) = versioned.media_type {
        let supported = [
            IMAGE_MANIFEST_MEDIA_TYPE,
            OCI_IMAGE_MEDIA_TYPE,
            IMAGE_MANIFEST_LIST_MEDIA_TYPE,
            OCI_IMAGE_INDEX_MEDIA_TYPE,
        ];
        if !supported.contains(&media_type.as_str()) {
            return Err(OciDistributionError::UnsupportedMediaTypeError(media_type).to_string());
        }
    }
    serde_json::from_slice(body)
        .map_err(|e| OciDistributionError::ManifestParsingError(e.to_string()).to_string())
}

fn to_vec(value: &impl Serialize) -> Result<Vec<u8>, String> {
    serde_json::to_vec(value).map_err(|e| format!("cannot serialise: {e}"))
}

/// A failure is the callback's error message; the host wraps it for the guest
/// (`host::CALLBACK_FAILURE`).
fn answer(relayed: Result<Vec<u8>, String>) -> HostResponse {
    match relayed {
        Ok(bytes) => HostResponse::Success(bytes),
        Err(e) => HostResponse::Error(e),
    }
}

/// The oci-client release the relay runs (the one the Kubewarden host uses).
pub const OCI_CLIENT: &str = "oci-client 0.17.0";

/// The case as the host would relay it: the response passed through [`relay`].
pub fn relayed_case(case: &Case) -> Result<Case, RelayError> {
    let mut relayed = case.clone();
    relayed.response = relay(case.op, &case.response)?;
    relayed.origin = Origin::HostRelayed;
    relayed.tags.push("relayed".into());
    Ok(relayed)
}

/// A host-relayed twin of a case, as a new case file: id `<op>/relayed/<rest of the
/// id>`, the relayed bytes (or the host's error) as its response, the source's
/// provenance noting the relay. The case's own `expect` is not carried over.
pub fn twin(case: &Case) -> Result<CaseFile, RelayError> {
    let response = match relay(case.op, &case.response)? {
        HostResponse::Success(bytes) => {
            let text = String::from_utf8(bytes).expect("serde_json writes UTF-8");
            ResponseSpec::Json(RawValue::from_string(text).expect("serde_json writes JSON"))
        }
        HostResponse::Error(message) => ResponseSpec::HostError(message),
    };
    let rest = case.id.split_once('/').map_or(case.id.as_str(), |(_, rest)| rest);
    let mut provenance = case.provenance.clone().unwrap_or_default();
    let note = format!("the Kubewarden host's relay ({OCI_CLIENT}) of case {}", case.id);
    provenance.note = Some(match provenance.note {
        Some(old) => format!("{note}; {old}"),
        None => note,
    });
    let mut tags: Vec<String> = case.tags.iter().filter(|t| *t != "registry-raw").cloned().collect();
    tags.push("relayed".into());
    Ok(CaseFile {
        id: format!("{}/relayed/{rest}", case.op.name()),
        description: format!("What the Kubewarden host sends for case {}. {}", case.id, case.description),
        op: case.op,
        image: Some(case.image().to_string()),
        input: None,
        response,
        origin: Origin::HostRelayed,
        provenance: Some(provenance),
        spec: case.spec.clone(),
        tags,
        level: case.level,
        expect: None,
    })
}

#[cfg(test)]
#[path = "relay_tests.rs"]
mod tests;
