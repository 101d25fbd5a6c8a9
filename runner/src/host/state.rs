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
use super::host_request::HostRequest;
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
    /// The host's side of each request of the invocation, in order.
    scripts: Vec<HostScript>,
    /// How requests are told apart: a WASI-CLI guest's request ends with the result line
    /// it writes; a waPC driver says when one begins ([`HostState::begin_request`]).
    by_lines: bool,
    request: RequestState,
    /// Host calls, with the request each belongs to.
    calls: Vec<(usize, HostCall)>,
    pub(super) started: Instant,
}

/// The request in progress, with its deadline's start and its host-call budget.
#[derive(Clone, Copy)]
struct RequestState {
    index: usize,
    started: Instant,
    calls: usize,
    call_bytes: usize,
}

impl RequestState {
    fn new(index: usize, started: Instant) -> Self {
        RequestState { index, started, calls: 0, call_bytes: 0 }
    }
}

impl HostState {
    /// A waPC request begins (its deadline running from `started`): its budgets and its
    /// exchange start afresh.
    pub(super) fn begin_request(&mut self, index: usize, started: Instant) {
        self.request = RequestState::new(index, started);
        self.wapc.begin();
        self.stdout.begin_request();
        self.stderr.begin_request();
    }

    /// When the request in progress began: its deadline runs from there.
    pub(super) fn request_started(&self) -> Instant {
        match self.by_lines {
            true => self.stdout.lines_done().1.unwrap_or(self.started),
            false => self.request.started,
        }
    }

    /// Stops the guest once its request's wall-clock budget is spent: every host function
    /// checks, as does the epoch callback.
    pub(super) fn check_deadline(&self) -> wasmtime::Result<()> {
        if self.request_started().elapsed() >= self.limits.timeout {
            return Err(wasmtime::Error::new(LimitHit(Limit::Timeout)));
        }
        Ok(())
    }

    /// The request a host call belongs to; a WASI-CLI request that has just begun gets
    /// fresh budgets.
    fn current_request(&mut self) -> usize {
        if self.by_lines {
            let (done, at) = self.stdout.lines_done();
            if done != self.request.index {
                self.request = RequestState::new(done, at.unwrap_or(self.started));
            }
        }
        self.request.index
    }

    /// Answers a host call from its request's script and records it.
    fn host_call(
        &mut self,
        binding: String,
        namespace: String,
        operation: String,
        payload: Vec<u8>,
    ) -> Answer {
        let index = self.current_request();
        let (answer, request) = match self.scripts.get(index) {
            Some(script) => script.serve(&binding, &namespace, &operation, &payload),
            None => (
                Answer::Error(format!(
                    "{}kwconform: a host call after the guest answered every request",
                    super::calls::CALLBACK_FAILURE
                )),
                HostRequest::NotDecoded,
            ),
        };
        let at = self.request.started.elapsed();
        let call = HostCall { binding, namespace, operation, payload, request, answer: answer.clone(), at };
        self.calls.push((index, call));
        answer
    }

    /// Takes `bytes` from the request's host-call budget before they are copied out of
    /// the guest.
    fn spend_on_calls(&mut self, bytes: usize) -> wasmtime::Result<()> {
        self.current_request();
        let request = &mut self.request;
        if request.calls >= self.limits.host_calls {
            return Err(wasmtime::Error::new(LimitHit(Limit::HostCalls)));
        }
        request.calls += 1;
        request.call_bytes = request.call_bytes.saturating_add(bytes);
        if request.call_bytes > self.limits.host_call_bytes {
            return Err(wasmtime::Error::new(LimitHit(Limit::HostCallBytes)));
        }
        Ok(())
    }

    /// The host calls of request `index`.
    pub(super) fn take_calls(&mut self, index: usize) -> Vec<HostCall> {
        let (mine, others) = std::mem::take(&mut self.calls).into_iter().partition(|(i, _)| *i == index);
        self.calls = others;
        mine.into_iter().map(|(_, call)| call).collect()
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

/// A fresh store for one invocation serving one request per script: no preopened
/// directories, no environment, no network, stdio captured and capped (the output caps
/// count once per request), a virtual clock, a deadline per request.
pub(super) fn new_store(
    engine: &HostEngine,
    argv: &[&str],
    stdin: Vec<u8>,
    scripts: Vec<HostScript>,
    by_lines: bool,
) -> Store<HostState> {
    let largest_response = scripts.iter().map(|s| s.response.len()).max().unwrap_or(0);
    let limits = engine.limits().serving(largest_response);
    let stdin_stream = ReplaceableStdin::default();
    stdin_stream.replace(stdin);
    let stderr = CappedOutput::new(limits.stderr_bytes, Limit::Stderr);
    let stdout = CappedOutput::with_lines(limits.result_bytes, Limit::Result, &stderr, scripts.len());
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
        scripts,
        by_lines,
        request: RequestState::new(0, Instant::now()),
        calls: Vec::new(),
        started: Instant::now(),
    };
    let mut store = Store::new(engine.engine(), state);
    store.limiter(|state| &mut state.limiter);
    // Epochs only prompt the check: a request's deadline runs from its own start, so a
    // batch's later requests get their whole budget.
    let tick = engine.tick();
    store.set_epoch_deadline(engine.deadline_ticks());
    store.epoch_deadline_callback(move |context| {
        let left = limits.timeout.saturating_sub(context.data().request_started().elapsed());
        if left.is_zero() {
            return Err(wasmtime::Error::new(LimitHit(Limit::Timeout)));
        }
        Ok(wasmtime::UpdateDeadline::Continue(left.as_nanos().div_ceil(tick.as_nanos()) as u64 + 1))
    });
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

    /// Counts a growth from `current` to `desired` against `cap`. Past the cap, the
    /// guest stops with the cap named; within it but past the memory's or table's own
    /// maximum, the growth fails the ordinary way (-1).
    fn grow(
        total: &mut usize,
        pending: &mut usize,
        (cap, limit): (usize, Limit),
        (current, desired, max): (usize, usize, Option<usize>),
    ) -> wasmtime::Result<bool> {
        let by = desired.saturating_sub(current);
        let grown = total.saturating_add(by);
        if grown > cap {
            return Err(wasmtime::Error::new(LimitHit(limit)));
        }
        if max.is_some_and(|max| desired > max) {
            return Ok(false);
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
        let cap = (self.memory_cap, Limit::Memory);
        Limiter::grow(&mut self.memory, &mut self.pending, cap, (current, desired, max))
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
        let cap = (self.table_cap, Limit::Table);
        Limiter::grow(&mut self.tables, &mut self.pending, cap, (current, desired, max))
    }

    fn table_grow_failed(&mut self, _: wasmtime::Error) -> wasmtime::Result<()> {
        self.tables -= std::mem::take(&mut self.pending);
        Ok(())
    }
}
