//! Host calls: what a guest asked the host for, and what the host answered.

use std::time::Duration;

use crate::case::{HostResponse, Op};

/// One `host_call(binding, namespace, operation, payload)` made by a guest, with the
/// host's answer. Both ABIs record the same thing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostCall {
    pub binding: String,
    pub namespace: String,
    pub operation: String,
    pub payload: Vec<u8>,
    pub response: HostResponse,
    /// Time since the guest invocation started, when the call arrived.
    pub at: Duration,
}

/// The host side of one scenario: it answers the case's operation with the case's
/// response, like a Kubewarden host that fetched it from a registry. Anything else gets
/// the error a real host gives for an operation it does not serve.
#[derive(Clone, Debug)]
pub struct HostScript {
    pub op: Op,
    pub response: HostResponse,
}

impl HostScript {
    pub fn answer(&self, binding: &str, namespace: &str, operation: &str) -> HostResponse {
        if binding == "kubewarden" && namespace == "oci" && operation == self.op.host_operation() {
            self.response.clone()
        } else {
            HostResponse::Error(format!("unknown operation: {binding}/{namespace}/{operation}"))
        }
    }
}
