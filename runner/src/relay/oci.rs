//! What the host sends for a registry document: oci-client's `pull_manifest` and
//! policy-evaluator's manifest-and-config answer.

use oci_client::errors::OciDistributionError;
use oci_client::manifest::{
    IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_INDEX_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE, OciImageManifest, OciManifest, Versioned,
};
use serde::{Deserialize, Serialize};

use super::{RelayError, answer, to_vec};
use crate::case::HostResponse;

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

pub fn manifest_and_config(bytes: &[u8]) -> Result<HostResponse, RelayError> {
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
pub fn pull_manifest(body: &[u8]) -> Result<OciManifest, String> {
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
