//! The real Kubewarden host's relay: what the host sends a guest for what it fetched.
//! The host does not forward a registry's or an API server's bytes; it decodes them into
//! its crates' types and serialises those (compact, declaration order, unknown fields
//! dropped, its own changes made). This module runs the same code (the crate releases the
//! host uses) on a raw case response: `oci` for the registry documents, `kubernetes` for
//! the API server's answers.

mod kubernetes;
mod oci;

use kubewarden_policy_sdk::host_capabilities::oci::ManifestDigestResponse;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::case::{Case, CaseFile, HostResponse, Input, Op, Origin, ResponseSpec};

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
    /// A list the host's reflector cannot load: it retries with a backoff and the
    /// guest's call waits, unanswered.
    #[error("the host's reflector cannot load this list and never answers: {0}")]
    ListNeverLoaded(String),
    /// A `can_i` case that holds the host's answer (the review's status) rather than the
    /// API server's SubjectAccessReview, which is what the relay takes.
    #[error(
        "the case holds the host's answer to can_i, not the API server's SubjectAccessReview the relay takes"
    )]
    HoldsHostAnswer,
}

/// What the host sends for `response`, the raw answer to `op` asked with `input` (the
/// case's input; the Kubernetes lists need the request's `api_version`, `kind` and
/// `field_masks`). Documents the host rejects become the host error it returns; host
/// errors pass through unchanged.
pub fn relay(op: Op, input: &Input, response: &HostResponse) -> Result<HostResponse, RelayError> {
    let HostResponse::Success(bytes) = response else {
        return Ok(response.clone());
    };
    let relayed = match op {
        Op::OciManifest => oci::pull_manifest(bytes).and_then(|m| to_vec(&m)),
        Op::ManifestDigest => serde_json::from_slice::<ManifestDigestResponse>(bytes)
            .map_err(|e| format!("cannot decode the manifest digest: {e}"))
            .and_then(|d| to_vec(&d)),
        Op::OciManifestConfig => return oci::manifest_and_config(bytes),
        Op::GetResource => kubernetes::get_resource(input, bytes),
        Op::ListResourcesByNamespace | Op::ListResourcesAll => {
            return kubernetes::list_resources(input, bytes);
        }
        Op::CanI => kubernetes::can_i(bytes),
        other => return Err(RelayError::NotRelayed(other)),
    };
    Ok(answer(relayed))
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

/// The crate releases the relay runs (the ones the Kubewarden host uses).
pub const HOST_CRATES: &str = "oci-client 0.17.0, kube-core 3.1.0, k8s-openapi 0.27.1";

/// The case as the host would relay it: the response passed through [`relay`].
pub fn relayed_case(case: &Case) -> Result<Case, RelayError> {
    let mut relayed = case.clone();
    relayed.response = relay_case_response(case)?;
    relayed.origin = Origin::HostRelayed;
    relayed.tags.push("relayed".into());
    Ok(relayed)
}

/// Only a registry-raw `can_i` case holds what the API server answers; the others hold
/// the status the host sends, which the relay would reject as a review.
fn relay_case_response(case: &Case) -> Result<HostResponse, RelayError> {
    if case.op == Op::CanI && case.origin != Origin::RegistryRaw {
        return Err(RelayError::HoldsHostAnswer);
    }
    relay(case.op, &case.input, &case.response)
}

/// A host-relayed twin of a case, as a new case file: id `<op>/relayed/<rest of the
/// id>`, the same input, the relayed bytes (or the host's error) as its response, the
/// source's provenance noting the relay. The case's own `expect` is not carried over.
pub fn twin(case: &Case) -> Result<CaseFile, RelayError> {
    let response = match relay_case_response(case)? {
        HostResponse::Success(bytes) => {
            let text = String::from_utf8(bytes).expect("serde_json writes UTF-8");
            ResponseSpec::Json(RawValue::from_string(text).expect("serde_json writes JSON"))
        }
        HostResponse::Error(message) => ResponseSpec::HostError(message),
    };
    let rest = case.id.split_once('/').map_or(case.id.as_str(), |(_, rest)| rest);
    let mut provenance = case.provenance.clone().unwrap_or_default();
    let note = format!("the Kubewarden host's relay ({HOST_CRATES}) of case {}", case.id);
    provenance.note = Some(match provenance.note {
        Some(old) => format!("{note}; {old}"),
        None => note,
    });
    let mut tags: Vec<String> = case.tags.iter().filter(|t| *t != "registry-raw").cloned().collect();
    tags.push("relayed".into());
    Ok(CaseFile {
        id: format!("{}/relayed/{rest}", case.op.name()),
        description: format!("What the Kubewarden host sends for case {}. {}", case.id, case.description),
        response,
        origin: Origin::HostRelayed,
        provenance: Some(provenance),
        tags,
        expect: None,
        ..case.to_file()
    })
}

#[cfg(test)]
mod tests;
