//! The per-invocation store state both ABIs share: WASI with captured stdio, the
//! memory limiter, the host script and the log of host calls.

use std::time::Instant;

use wasmtime::{Caller, Linker, ResourceLimiter, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

use super::calls::{Answer, HostCall, HostScript};
use super::engine::HostEngine;
use super::memory;
use super::stdio::ReplaceableStdin;
use super::wapc::WapcState;

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
    ) -> Answer {
        let answer = self.script.answer(&binding, &namespace, &operation);
        self.calls.push(HostCall {
            binding,
            namespace,
            operation,
            payload,
            answer: answer.clone(),
            at: self.started.elapsed(),
        });
        answer
    }

    pub(super) fn take_calls(&mut self) -> Vec<HostCall> {
        std::mem::take(&mut self.calls)
    }
}

/// Defines a host-call import: 8 × i32 (binding, namespace, operation, payload as
/// pointer/length pairs) → i32. The call is answered from the script and recorded;
/// `deliver` hands the answer to the guest the ABI's way and returns its status code.
pub(super) fn define_host_call(
    linker: &mut Linker<HostState>,
    module: &str,
    name: &str,
    deliver: fn(&mut HostState, Answer) -> i32,
) -> wasmtime::Result<()> {
    linker.func_wrap(
        module,
        name,
        move |mut caller: Caller<'_, HostState>,
              bd_ptr: i32,
              bd_len: i32,
              ns_ptr: i32,
              ns_len: i32,
              op_ptr: i32,
              op_len: i32,
              ptr: i32,
              len: i32|
              -> wasmtime::Result<i32> {
            let binding = memory::read_string(&mut caller, bd_ptr, bd_len)?;
            let namespace = memory::read_string(&mut caller, ns_ptr, ns_len)?;
            let operation = memory::read_string(&mut caller, op_ptr, op_len)?;
            let payload = memory::read(&mut caller, ptr, len)?;
            let state = caller.data_mut();
            let answer = state.host_call(binding, namespace, operation, payload);
            Ok(deliver(state, answer))
        },
    )?;
    Ok(())
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
