//! The waPC ABI (the Rust SDK; the Go SDK under TinyGo): the `wapc` imports and the
//! `__guest_call` export.

use std::time::Instant;

use wasmtime::{Caller, Instance, Linker, Store, TypedFunc};
use wasmtime_wasi::I32Exit;

use super::calls::Answer;
use super::limits::{Limit, LimitHit};
use super::memory;
use super::state::{self, HostState};
use super::{Failure, Request, Served, finish_start};

/// The buffers a waPC exchange passes through the host.
#[derive(Default)]
pub(super) struct WapcState {
    operation: Vec<u8>,
    request: Vec<u8>,
    guest_response: Option<Vec<u8>>,
    guest_error: Option<Vec<u8>>,
    host_response: Vec<u8>,
    host_error: Vec<u8>,
    console: Vec<u8>,
}

/// The `wapc` module's host functions, waPC status codes: 1 = ok, 0 = error.
pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    state::define_host_call(linker, "wapc", "__host_call", |state, answer| match answer {
        Answer::Success(bytes) => {
            state.wapc.host_response = bytes;
            1
        }
        Answer::Error(message) => {
            state.wapc.host_error = message.into_bytes();
            0
        }
    })?;
    linker.func_wrap("wapc", "__host_response_len", |caller: Caller<'_, HostState>| {
        caller.data().wapc.host_response.len() as i32
    })?;
    linker.func_wrap("wapc", "__host_response", |mut caller: Caller<'_, HostState>, ptr: i32| {
        let bytes = std::mem::take(&mut caller.data_mut().wapc.host_response);
        memory::write(&mut caller, ptr, &bytes)
    })?;
    linker.func_wrap("wapc", "__host_error_len", |caller: Caller<'_, HostState>| {
        caller.data().wapc.host_error.len() as i32
    })?;
    linker.func_wrap("wapc", "__host_error", |mut caller: Caller<'_, HostState>, ptr: i32| {
        let bytes = std::mem::take(&mut caller.data_mut().wapc.host_error);
        memory::write(&mut caller, ptr, &bytes)
    })?;
    linker.func_wrap(
        "wapc",
        "__guest_request",
        |mut caller: Caller<'_, HostState>, op_ptr: i32, ptr: i32| {
            let operation = caller.data().wapc.operation.clone();
            let request = caller.data().wapc.request.clone();
            memory::write(&mut caller, op_ptr, &operation)?;
            memory::write(&mut caller, ptr, &request)
        },
    )?;
    linker.func_wrap(
        "wapc",
        "__guest_response",
        |mut caller: Caller<'_, HostState>, ptr: i32, len: i32| {
            let bytes = read_answer(&mut caller, ptr, len)?;
            caller.data_mut().wapc.guest_response = Some(bytes);
            Ok(())
        },
    )?;
    linker.func_wrap("wapc", "__guest_error", |mut caller: Caller<'_, HostState>, ptr: i32, len: i32| {
        let bytes = read_answer(&mut caller, ptr, len)?;
        caller.data_mut().wapc.guest_error = Some(bytes);
        Ok(())
    })?;
    linker.func_wrap("wapc", "__console_log", |mut caller: Caller<'_, HostState>, ptr: i32, len: i32| {
        let state = caller.data();
        state.check_deadline()?;
        // The cap is checked before anything is copied out of the guest.
        let room = state.limits.console_bytes.saturating_sub(state.wapc.console.len());
        let wanted = len as u32 as usize + 1;
        let bytes = memory::read(&mut caller, ptr, (wanted.min(room).saturating_sub(1)) as i32)?;
        let console = &mut caller.data_mut().wapc.console;
        console.extend_from_slice(&bytes);
        if wanted > room {
            return Err(wasmtime::Error::new(LimitHit(Limit::Console)));
        }
        console.push(b'\n');
        Ok(())
    })?;
    Ok(())
}

/// The guest's answer, refused past the result cap before it is copied.
fn read_answer(caller: &mut Caller<'_, HostState>, ptr: i32, len: i32) -> wasmtime::Result<Vec<u8>> {
    caller.data().check_deadline()?;
    if len as u32 as usize > caller.data().limits.result_bytes {
        return Err(wasmtime::Error::new(LimitHit(Limit::Result)));
    }
    memory::read(caller, ptr, len)
}

/// Starts the module the way waPC hosts do, plus `_initialize` for reactors (Go
/// `-buildmode=c-shared`), then serves the requests with one `__guest_call` each. The
/// first failure ends the instance: the requests after it are left to a fresh one.
pub(super) fn serve(
    store: &mut Store<HostState>,
    instance: Instance,
    operation: &str,
    requests: &[Request],
) -> Vec<Served> {
    let started = store.data().started;
    let guest_call = match initialise(store, instance) {
        Ok(guest_call) => guest_call,
        Err(failure) => return vec![Served::new(Err(failure), Vec::new(), Vec::new(), started)],
    };
    let mut served = Vec::with_capacity(requests.len());
    for (index, request) in requests.iter().enumerate() {
        // The first request's deadline includes the module's start, as a fresh one's does.
        let begun = if index == 0 { started } else { Instant::now() };
        let marks = (store.data().stdout.len(), store.data().stderr.len());
        store.data_mut().begin_request(index, begun);
        let result = call(store, &guest_call, operation, &request.payload);
        let data = store.data();
        let mut stderr = data.stderr.since(marks.1);
        stderr.extend_from_slice(&data.wapc.console);
        let failed = result.is_err();
        served.push(Served::new(result, data.stdout.since(marks.0), stderr, begun));
        if failed {
            break;
        }
    }
    served
}

fn initialise(
    store: &mut Store<HostState>,
    instance: Instance,
) -> Result<TypedFunc<(i32, i32), i32>, Failure> {
    let has = |store: &mut Store<HostState>, name| instance.get_func(&mut *store, name).is_some();
    let start = if has(store, "_start") { "_start" } else { "_initialize" };
    for name in [start, "wapc_init"] {
        if has(store, name) {
            let func = instance.get_typed_func::<(), ()>(&mut *store, name).map_err(Failure::Engine)?;
            finish_start(func.call(&mut *store, ()))?;
        }
    }
    instance.get_typed_func::<(i32, i32), i32>(&mut *store, "__guest_call").map_err(Failure::Engine)
}

/// One `__guest_call`, and what the guest answered.
fn call(
    store: &mut Store<HostState>,
    guest_call: &TypedFunc<(i32, i32), i32>,
    operation: &str,
    payload: &[u8],
) -> Result<Vec<u8>, Failure> {
    let state = &mut store.data_mut().wapc;
    state.operation = operation.as_bytes().to_vec();
    state.request = payload.to_vec();
    let status = match guest_call.call(&mut *store, (operation.len() as i32, payload.len() as i32)) {
        Ok(status) => status,
        // Exiting with 0 is a normal end for a WASI program: its answer stands, if it gave one.
        Err(e) if e.downcast_ref::<I32Exit>().is_some_and(|exit| exit.0 == 0) => {
            return store.data_mut().wapc.guest_response.take().ok_or_else(|| {
                Failure::Protocol("the guest exited with code 0 inside __guest_call without answering".into())
            });
        }
        Err(e) => return Err(Failure::Engine(e)),
    };
    let state = &mut store.data_mut().wapc;
    match (status, state.guest_response.take(), state.guest_error.take()) {
        (1, Some(response), _) => Ok(response),
        (1, None, _) => Err(Failure::Protocol("__guest_call returned 1 without __guest_response".into())),
        (_, _, Some(error)) => Err(Failure::GuestError(String::from_utf8_lossy(&error).into_owned())),
        (status, _, None) => {
            Err(Failure::Protocol(format!("__guest_call returned {status} without __guest_error")))
        }
    }
}

impl WapcState {
    /// A new request: nothing of the last one's exchange stays.
    pub(super) fn begin(&mut self) {
        *self = WapcState::default();
    }
}
