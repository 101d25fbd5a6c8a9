//! The waPC ABI the way Kubewarden's own host serves it: `wapc::WapcHost` on
//! wasmtime-provider (the stack of policy-evaluator's `runtimes/wapc`), as a second waPC
//! host flavour beside kwconform's own (`wapc.rs`). It answers host calls from the same
//! [`HostScript`] and records them the same way; everything else is the real stack's:
//! it runs `_start` then `wapc_init` (never `_initialize`), inherits the runner's stdio
//! (guest output is not captured), and reads guest memory unchecked, so a guest passing
//! a bad pointer panics it. For trusted guests only (docs/guest-protocol.md).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use wapc::WapcHost;
use wapc::errors::Error as WapcError;
use wasmtime::Module;
use wasmtime_provider::{
    EpochDeadlines, ResourceLimits, WasmtimeEngineProviderBuilder, WasmtimeEngineProviderPre,
};

use super::EngineFailure;
use super::calls::{Answer, HostCall, HostScript};
use super::engine::HostEngine;
use super::limits::Limit;

/// What wasmtime-provider reports when an epoch deadline interrupts a call, and the
/// part of an initialisation failure that says the same (policy-evaluator matches both).
const CALL_INTERRUPTED: &str = "guest code interrupted, execution deadline exceeded";
const INIT_INTERRUPTED: &str = "init interrupted, execution deadline exceeded";

/// Links a compiled module into the provider, with the engine's memory and table limits.
pub(super) fn link(engine: &HostEngine, module: &Module) -> Result<WasmtimeEngineProviderPre, String> {
    let limits = engine.limits();
    WasmtimeEngineProviderBuilder::new()
        .engine(engine.engine().clone())
        .module(module.clone())
        .enable_resource_limits(ResourceLimits {
            max_memory_size: Some(limits.memory_bytes),
            max_table_elements: Some(limits.table_elements),
        })
        .build_pre()
        .map_err(|e| e.to_string())
}

/// One invocation in a fresh `WapcHost`: initialisation, then one `call`.
pub(super) fn invoke(
    pre: &WasmtimeEngineProviderPre,
    engine: &HostEngine,
    operation: &str,
    payload: &[u8],
    script: HostScript,
) -> (Result<Vec<u8>, EngineFailure>, Vec<HostCall>) {
    let calls: Arc<Mutex<Vec<HostCall>>> = Arc::default();
    let started = Instant::now();
    let callback = {
        let calls = calls.clone();
        move |_id: u64, binding: &str, namespace: &str, operation: &str, payload: &[u8]| {
            let answer = script.answer(binding, namespace, operation);
            let call = HostCall {
                binding: binding.into(),
                namespace: namespace.into(),
                operation: operation.into(),
                payload: payload.to_vec(),
                answer: answer.clone(),
                at: started.elapsed(),
            };
            calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(call);
            match answer {
                Answer::Success(bytes) => Ok(bytes),
                Answer::Error(text) => Err(text.into()),
            }
        }
    };
    let ticks = engine.deadline_ticks();
    // The provider panics on a bad guest pointer; the panic ends this invocation only.
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let provider = pre
            .rehydrate(Some(EpochDeadlines { wapc_init: ticks, wapc_func: ticks }))
            .map_err(|e| EngineFailure::Instantiate(e.to_string()))?;
        let host = WapcHost::new(Box::new(provider), Some(Box::new(callback))).map_err(classify)?;
        host.call(operation, payload).map_err(classify)
    }));
    let result = outcome.unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        Err(EngineFailure::Trap(format!("the wasmtime-provider host panicked: {message}")))
    });
    let calls = std::mem::take(&mut *calls.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
    (result, calls)
}

/// The wapc crate's errors, as the runner's failure kinds.
fn classify(error: WapcError) -> EngineFailure {
    match error {
        WapcError::GuestCallFailure(m) if m == CALL_INTERRUPTED => EngineFailure::Limit(Limit::Timeout),
        WapcError::InitFailed(m) if m.contains(INIT_INTERRUPTED) => EngineFailure::Limit(Limit::Timeout),
        // A guest's `__guest_error`, and any trap during the call (the provider turns
        // both into the guest error text).
        WapcError::GuestCallFailure(m) => EngineFailure::GuestError(m),
        WapcError::InitFailed(m) => EngineFailure::Instantiate(m),
        other => EngineFailure::Trap(other.to_string()),
    }
}
