//! The host's side of a request: the payload decoded exactly as Kubewarden's host
//! decodes it (policy-evaluator `runtimes/callback.rs`, `serde_json::from_slice` into
//! the request types `kubewarden-policy-sdk` exports) before it does anything else. A
//! payload it cannot decode never reaches a callback: the guest gets serde_json's
//! message as the host-call error, unwrapped.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use kubewarden_policy_sdk::host_capabilities::crypto_v1::CertificateVerificationRequest;
use kubewarden_policy_sdk::host_capabilities::kubernetes::{
    CanIRequest, GetResourceRequest, ListAllResourcesRequest, ListResourcesByNamespaceRequest,
};
use kubewarden_policy_sdk::host_capabilities::{SigstoreVerificationInputV1, SigstoreVerificationInputV2};

/// What the host made of a request's payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostRequest {
    /// An operation whose payload the host does not decode (`tracing/log`, one it does not serve).
    NotDecoded,
    /// The decoded request, serialised back with the same types: what the host acts on.
    Decoded(Value),
    /// The host could not decode the payload; this is the error the guest receives.
    Undecodable(String),
}

/// Decodes a `kubewarden` host call's payload with the type the host uses for it.
pub fn decode(binding: &str, namespace: &str, operation: &str, payload: &[u8]) -> HostRequest {
    if binding != "kubewarden" {
        return HostRequest::NotDecoded;
    }
    match (namespace, operation) {
        ("oci", "v1/verify") => typed::<SigstoreVerificationInputV1>(payload),
        ("oci", "v2/verify") => typed::<SigstoreVerificationInputV2>(payload),
        ("oci", "v1/manifest_digest" | "v1/oci_manifest" | "v1/oci_manifest_config")
        | ("net", "v1/dns_lookup_host") => typed::<String>(payload),
        ("crypto", "v1/is_certificate_trusted") => typed::<CertificateVerificationRequest>(payload),
        ("kubernetes", "list_resources_by_namespace") => typed::<ListResourcesByNamespaceRequest>(payload),
        ("kubernetes", "list_resources_all") => typed::<ListAllResourcesRequest>(payload),
        ("kubernetes", "get_resource") => typed::<GetResourceRequest>(payload),
        ("kubernetes", "can_i") => typed::<CanIRequest>(payload),
        _ => HostRequest::NotDecoded,
    }
}

fn typed<T: DeserializeOwned + Serialize>(payload: &[u8]) -> HostRequest {
    match serde_json::from_slice::<T>(payload) {
        Ok(request) => {
            HostRequest::Decoded(serde_json::to_value(&request).expect("a decoded request serialises"))
        }
        Err(e) => HostRequest::Undecodable(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_with_the_sdk_types_and_reports_serde_errors() {
        let decoded = decode("kubewarden", "net", "v1/dns_lookup_host", br#""example.com""#);
        assert_eq!(decoded, HostRequest::Decoded(Value::from("example.com")));
        let null_list = br#"{"type":"SigstorePubKeyVerify","image":"i","pub_keys":null,"annotations":null}"#;
        assert_eq!(
            decode("kubewarden", "oci", "v2/verify", null_list),
            HostRequest::Undecodable("invalid type: null, expected a sequence".into())
        );
        // (v2/verify is an internally tagged enum: serde buffers it, and its errors lose their position.)
        // The Rust SDK's own rule: an empty not_after is no not_after.
        let empty = br#"{"cert":{"encoding":"Pem","data":[65]},"cert_chain":null,"not_after":""}"#;
        let HostRequest::Decoded(request) =
            decode("kubewarden", "crypto", "v1/is_certificate_trusted", empty)
        else {
            panic!("decodes")
        };
        assert_eq!(request["not_after"], Value::Null);
        assert_eq!(decode("kubewarden", "tracing", "log", b"x"), HostRequest::NotDecoded);
        assert_eq!(decode("other", "oci", "v2/verify", b"x"), HostRequest::NotDecoded);
    }
}
