//! The per-invocation store state both ABIs share: WASI with captured stdio, the
//! memory limiter, the host script and the log of host calls.

use std::time::Instant;

use wasmtime::{Caller, ResourceLimiter, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use super::calls::{HostCall, HostScript};
use super::engine::HostEngine;
use super::memory;
use super::stdio::ReplaceableStdin;
use super::wapc::WapcState;
use crate::case::HostResponse;

pub struct HostState {
    pub(super) wasi: WasiP1Ctx,
    pub(super) limiter: MemoryLimiter,
    pub(super) stdin: ReplaceableStdin,
    pub(super) stdout: MemoryOutputPipe,
    pub(super) stderr: MemoryOutputPipe,
    pub(super) wapc: WapcState,
    script: HostScript,
    calls: Vec<HostCall>,
    started: Instant,
}

impl HostState {
    /// Answers a host call from the script and records it.
    fn host_call(
        &mut self,
        binding: String,
        namespace: String,
        operation: String,
        payload: Vec<u8>,
    ) -> HostResponse {
        let response = self.script.answer(&binding, &namespace, &operation);
        self.calls.push(HostCall {
            binding,
            namespace,
            operation,
            payload,
            response: response.clone(),
            at: self.started.elapsed(),
        });
        response
    }

    pub(super) fn take_calls(&mut self) -> Vec<HostCall> {
        std::mem::take(&mut self.calls)
    }
}

/// Reads a host call's four (pointer, length) arguments out of the guest, answers it
/// from the script and records it. Both ABIs pass their arguments in this order.
pub(super) fn guest_host_call(
    caller: &mut Caller<'_, HostState>,
    [bd_ptr, bd_len, ns_ptr, ns_len, op_ptr, op_len, ptr, len]: [i32; 8],
) -> wasmtime::Result<HostResponse> {
    let binding = memory::read_string(caller, bd_ptr, bd_len)?;
    let namespace = memory::read_string(caller, ns_ptr, ns_len)?;
    let operation = memory::read_string(caller, op_ptr, op_len)?;
    let payload = memory::read(caller, ptr, len)?;
    Ok(caller.data_mut().host_call(binding, namespace, operation, payload))
}

/// A fresh store: no preopened directories, no environment, no network, stdio captured.
pub(super) fn new_store(
    engine: &HostEngine,
    argv: &[&str],
    stdin: Vec<u8>,
    script: HostScript,
) -> Store<HostState> {
    let limits = engine.limits();
    let stdin_stream = ReplaceableStdin::default();
    stdin_stream.replace(stdin);
    let stdout = MemoryOutputPipe::new(limits.output_bytes);
    let stderr = MemoryOutputPipe::new(limits.output_bytes);
    let wasi = WasiCtxBuilder::new()
        .args(argv)
        .stdin(stdin_stream.clone())
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build_p1();
    let state = HostState {
        wasi,
        limiter: MemoryLimiter { limit: limits.memory_bytes, hit: false },
        stdin: stdin_stream,
        stdout,
        stderr,
        wapc: WapcState::default(),
        script,
        calls: Vec::new(),
        started: Instant::now(),
    };
    let mut store = Store::new(engine.engine(), state);
    store.limiter(|state| &mut state.limiter);
    store.set_epoch_deadline(engine.deadline_ticks());
    store.epoch_deadline_trap();
    store
}

/// Caps linear memory and remembers whether the cap was hit, so that a guest failing
/// after a refused `memory.grow` is reported as a runner limit, not as a guest fault.
pub(super) struct MemoryLimiter {
    limit: usize,
    pub(super) hit: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _: usize, desired: usize, _: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = desired <= self.limit;
        self.hit |= !allowed;
        Ok(allowed)
    }

    fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> wasmtime::Result<bool> {
        Ok(true)
    }
}
