//! The per-invocation store state both ABIs share: WASI with captured, capped stdio and
//! virtual time, the resource limiter, the host script and the log of host calls. Every
//! cap a guest can hit is enforced here or in the ABI modules, and stops the guest with
//! a [`LimitHit`].

use std::time::Instant;

use wasmtime::{Caller, Linker, ResourceLimiter, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::WasiP1Ctx;

use super::calls::{Answer, HostCall, HostScript};
use super::engine::HostEngine;
use super::limits::{Limit, LimitHit, Limits};
use super::memory;
use super::stdio::{CappedOutput, ReplaceableStdin};
use super::virtual_time::VirtualClock;
use super::wapc::WapcState;

pub struct HostState {
    pub(super) wasi: WasiP1Ctx,
    pub(super) limiter: Limiter,
    pub(super) stdin: ReplaceableStdin,
    pub(super) stdout: CappedOutput,
    pub(super) stderr: CappedOutput,
    pub(super) clock: VirtualClock,
    pub(super) wapc: WapcState,
    pub(super) limits: Limits,
    script: HostScript,
    calls: Vec<HostCall>,
    call_bytes: usize,
    started: Instant,
}

impl HostState {
    /// Stops the guest once its wall-clock budget is spent: every host function checks.
    pub(super) fn check_deadline(&self) -> wasmtime::Result<()> {
        if self.started.elapsed() >= self.limits.timeout {
            return Err(wasmtime::Error::new(LimitHit(Limit::Timeout)));
        }
        Ok(())
    }

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

    /// Takes `bytes` from the host-call budget before they are copied out of the guest.
    fn spend_on_calls(&mut self, bytes: usize) -> wasmtime::Result<()> {
        if self.calls.len() >= self.limits.host_calls {
            return Err(wasmtime::Error::new(LimitHit(Limit::HostCalls)));
        }
        self.call_bytes = self.call_bytes.saturating_add(bytes);
        if self.call_bytes > self.limits.host_call_bytes {
            return Err(wasmtime::Error::new(LimitHit(Limit::HostCallBytes)));
        }
        Ok(())
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
            let state = caller.data_mut();
            state.check_deadline()?;
            let total = [bd_len, ns_len, op_len, len].iter().map(|&n| n as u32 as usize).sum();
            state.spend_on_calls(total)?;
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

/// A fresh store: no preopened directories, no environment, no network, stdio captured
/// and capped, a virtual clock.
pub(super) fn new_store(
    engine: &HostEngine,
    argv: &[&str],
    stdin: Vec<u8>,
    script: HostScript,
) -> Store<HostState> {
    let limits = engine.limits();
    let stdin_stream = ReplaceableStdin::default();
    stdin_stream.replace(stdin);
    let stdout = CappedOutput::new(limits.result_bytes, Limit::Result);
    let stderr = CappedOutput::new(limits.stderr_bytes, Limit::Stderr);
    let clock = VirtualClock::new();
    let wasi = WasiCtxBuilder::new()
        .args(argv)
        .stdin(stdin_stream.clone())
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .wall_clock(clock.clone())
        .monotonic_clock(clock.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build_p1();
    let state = HostState {
        wasi,
        limiter: Limiter::new(&limits),
        stdin: stdin_stream,
        stdout,
        stderr,
        clock,
        wapc: WapcState::default(),
        limits,
        script,
        calls: Vec::new(),
        call_bytes: 0,
        started: Instant::now(),
    };
    let mut store = Store::new(engine.engine(), state);
    store.limiter(|state| &mut state.limiter);
    store.set_epoch_deadline(engine.deadline_ticks());
    store.epoch_deadline_trap();
    store
}

/// Caps all linear memories of an instance together, and all its tables together. A
/// growth past a cap stops the guest there (`memory.grow` traps instead of returning
/// -1), so the failure is the runner's limit whatever the guest would have done next.
pub(super) struct Limiter {
    memory_cap: usize,
    table_cap: usize,
    memory: usize,
    tables: usize,
    /// The last growth counted, undone if the engine then fails it.
    pending: usize,
}

impl Limiter {
    fn new(limits: &Limits) -> Limiter {
        Limiter {
            memory_cap: limits.memory_bytes,
            table_cap: limits.table_elements,
            memory: 0,
            tables: 0,
            pending: 0,
        }
    }

    fn grow(
        total: &mut usize,
        pending: &mut usize,
        cap: usize,
        by: usize,
        limit: Limit,
    ) -> wasmtime::Result<bool> {
        let grown = total.saturating_add(by);
        if grown > cap {
            return Err(wasmtime::Error::new(LimitHit(limit)));
        }
        *total = grown;
        *pending = by;
        Ok(true)
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Beyond the memory's own maximum, the growth fails the ordinary way (-1).
        if max.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        Limiter::grow(&mut self.memory, &mut self.pending, self.memory_cap, desired - current, Limit::Memory)
    }

    fn memory_grow_failed(&mut self, _: wasmtime::Error) -> wasmtime::Result<()> {
        self.memory -= std::mem::take(&mut self.pending);
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if max.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        Limiter::grow(&mut self.tables, &mut self.pending, self.table_cap, desired - current, Limit::Table)
    }

    fn table_grow_failed(&mut self, _: wasmtime::Error) -> wasmtime::Result<()> {
        self.tables -= std::mem::take(&mut self.pending);
        Ok(())
    }
}
