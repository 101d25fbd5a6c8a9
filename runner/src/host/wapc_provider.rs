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
use super::host_request::HostRequest;
use super::limits::Limit;
use super::{Invocation, Omitted, Request};

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

/// A fresh `WapcHost` for the batch: initialisation, then one `call` per request,
/// until the first failure.
pub(super) fn serve(
    pre: &WasmtimeEngineProviderPre,
    engine: &HostEngine,
    operation: &str,
    requests: &[Request],
) -> Vec<Invocation> {
    // The callback answers from the script of the request in progress.
    let exchange: Arc<Mutex<Exchange>> = Arc::new(Mutex::new((None, Vec::new(), Instant::now())));
    let callback = {
        let exchange = exchange.clone();
        move |_id: u64, binding: &str, namespace: &str, operation: &str, payload: &[u8]| {
            let mut exchange = lock(&exchange);
            let (answer, request) = match &exchange.0 {
                Some(script) => script.serve(binding, namespace, operation, payload),
                None => (
                    Answer::Error("kwconform: a host call outside any request".into()),
                    HostRequest::NotDecoded,
                ),
            };
            let at = exchange.2.elapsed();
            exchange.1.push(HostCall {
                binding: binding.into(),
                namespace: namespace.into(),
                operation: operation.into(),
                payload: payload.to_vec(),
                request,
                answer: answer.clone(),
                at,
            });
            match answer {
                Answer::Success(bytes) => Ok(bytes),
                Answer::Error(text) => Err(text.into()),
            }
        }
    };
    let ticks = engine.deadline_ticks();
    let started = Instant::now();
    let failed = |failure: EngineFailure, started: Instant| Invocation {
        result: Err(failure),
        calls: Vec::new(),
        stdout: Vec::new(),
        stderr: Vec::new(),
        elapsed: started.elapsed(),
        omitted: Omitted::default(),
        coverage: None,
    };
    // The provider panics on a bad guest pointer; the panic ends this instance only.
    let host = catch_unwind(AssertUnwindSafe(|| {
        let provider = pre
            .rehydrate(Some(EpochDeadlines { wapc_init: ticks, wapc_func: ticks }))
            .map_err(|e| EngineFailure::Instantiate(e.to_string()))?;
        WapcHost::new(Box::new(provider), Some(Box::new(callback))).map_err(classify)
    }));
    let host = match host {
        Ok(Ok(host)) => host,
        Ok(Err(failure)) => return vec![failed(failure, started)],
        Err(panic) => return vec![failed(panicked(panic), started)],
    };
    let mut served = Vec::with_capacity(requests.len());
    for (index, request) in requests.iter().enumerate() {
        let begun = if index == 0 { started } else { Instant::now() };
        *lock(&exchange) = (Some(request.script.clone()), Vec::new(), begun);
        let result = catch_unwind(AssertUnwindSafe(|| host.call(operation, &request.payload)))
            .map_err(panicked)
            .and_then(|result| result.map_err(classify));
        let failed = result.is_err();
        served.push(Invocation {
            result,
            calls: std::mem::take(&mut lock(&exchange).1),
            // Its guests' stdio goes to the runner's own: nothing to capture.
            stdout: Vec::new(),
            stderr: Vec::new(),
            elapsed: begun.elapsed(),
            omitted: Omitted::default(),
            // The provider keeps its instance to itself.
            coverage: None,
        });
        if failed {
            break;
        }
    }
    served
}

/// The script of the request in progress, its host calls, and when it began.
type Exchange = (Option<HostScript>, Vec<HostCall>, Instant);

fn lock(exchange: &Mutex<Exchange>) -> std::sync::MutexGuard<'_, Exchange> {
    exchange.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn panicked(panic: Box<dyn std::any::Any + Send>) -> EngineFailure {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("no message");
    EngineFailure::Trap(format!("the wasmtime-provider host panicked: {message}"))
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
