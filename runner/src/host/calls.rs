//! Host calls: what a guest asked the host for, and what the host answered.
//!
//! A case's response is the host's side of the exchange: bytes, or the message its
//! callback handler failed with (what kwctl records). [`HostScript::answer`] turns it
//! into what the guest receives, as Kubewarden's host does: a callback failure arrives
//! wrapped as `Callback evaluation failure: <message>`; a call the host does not
//! serve is rejected before any callback with its own text.

use std::time::Duration;

use super::host_request::{self, HostRequest};
use crate::case::{HostResponse, Op};

/// How Kubewarden's host (policy-evaluator `runtimes/callback.rs`) wraps the error of
/// a callback for the guest.
pub const CALLBACK_FAILURE: &str = "Callback evaluation failure: ";

/// What the guest receives for one host call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The call succeeded with these bytes.
    Success(Vec<u8>),
    /// The call failed with this text, exactly as the guest reads it.
    Error(String),
}

/// One `host_call(binding, namespace, operation, payload)` made by a guest, with the
/// host's answer. Both ABIs record the same thing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostCall {
    pub binding: String,
    pub namespace: String,
    pub operation: String,
    pub payload: Vec<u8>,
    /// The payload as the host decoded it (or could not).
    pub request: HostRequest,
    pub answer: Answer,
    /// Time since the guest invocation started, when the call arrived.
    pub at: Duration,
}

/// The namespaces and operations Kubewarden's host serves under the `kubewarden`
/// binding (policy-evaluator `runtimes/callback.rs`).
const HOST_OPERATIONS: &[(&str, &[&str])] = &[
    ("tracing", &["log"]),
    ("oci", &["v1/verify", "v2/verify", "v1/manifest_digest", "v1/oci_manifest", "v1/oci_manifest_config"]),
    ("net", &["v1/dns_lookup_host"]),
    ("crypto", &["v1/is_certificate_trusted"]),
    ("kubernetes", &["list_resources_by_namespace", "list_resources_all", "get_resource", "can_i"]),
];

/// The host side of one scenario: it answers the case's operation with the case's
/// response, like a Kubewarden host that fetched it from a registry.
#[derive(Clone, Debug)]
pub struct HostScript {
    pub op: Op,
    pub response: HostResponse,
}

impl HostScript {
    /// Serves one host call as Kubewarden's host does: the payload is decoded first (a
    /// payload it cannot decode gets serde's message and no callback), then the case's
    /// operation gets the case's response.
    pub fn serve(
        &self,
        binding: &str,
        namespace: &str,
        operation: &str,
        payload: &[u8],
    ) -> (Answer, HostRequest) {
        let request = host_request::decode(binding, namespace, operation, payload);
        let answer = match &request {
            HostRequest::Undecodable(message) => Answer::Error(message.clone()),
            _ => self.answer(binding, namespace, operation),
        };
        (answer, request)
    }

    fn answer(&self, binding: &str, namespace: &str, operation: &str) -> Answer {
        if binding == "kubewarden" && (namespace, operation) == self.op.host_call() {
            return match &self.response {
                HostResponse::Success(bytes) => Answer::Success(bytes.clone()),
                HostResponse::Error(message) => Answer::Error(format!("{CALLBACK_FAILURE}{message}")),
            };
        }
        let operations = HOST_OPERATIONS.iter().find(|(ns, _)| *ns == namespace).map(|(_, ops)| *ops);
        Answer::Error(match operations {
            _ if binding != "kubewarden" => format!("unknown binding: {binding}"),
            None => format!("unknown namespace: {namespace}"),
            Some(ops) if !ops.contains(&operation) => format!("unknown operation: {operation}"),
            // A real operation, but not the one this case is about: a real host would
            // perform it; this one has nothing to answer with.
            Some(_) => format!(
                "{CALLBACK_FAILURE}kwconform: this case scripts no answer for {binding}/{namespace}/{operation}"
            ),
        })
    }
}
