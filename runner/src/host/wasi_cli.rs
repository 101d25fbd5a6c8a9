//! Kubewarden's WASI-CLI ABI (the Go SDK built with the standard Go compiler): the
//! `host.call` import, answers through stdin, a WASI command run with `_start`.

use wasmtime::{Caller, Instance, Linker, Store};

use super::state::{self, HostState};
use super::{Failure, finish_start};
use crate::case::HostResponse;

/// `host.call`: 8 × i32 (binding, namespace, operation, payload) → i32, 0 = ok,
/// 1 = error (the opposite of waPC). The answer, or the error text, replaces stdin.
pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(
        "host",
        "call",
        |mut caller: Caller<'_, HostState>,
         bd_ptr: i32,
         bd_len: i32,
         ns_ptr: i32,
         ns_len: i32,
         op_ptr: i32,
         op_len: i32,
         ptr: i32,
         len: i32|
         -> wasmtime::Result<i32> {
            let args = [bd_ptr, bd_len, ns_ptr, ns_len, op_ptr, op_len, ptr, len];
            let response = state::guest_host_call(&mut caller, args)?;
            let state = caller.data_mut();
            let (status, answer) = match response {
                HostResponse::Success(bytes) => (0, bytes),
                HostResponse::Error(message) => (1, message.into_bytes()),
            };
            state.stdin.replace(answer);
            Ok(status)
        },
    )?;
    Ok(())
}

/// Runs the command (argv and stdin were set up with the store); stdout is the answer.
pub(super) fn invoke(store: &mut Store<HostState>, instance: Instance) -> Result<Vec<u8>, Failure> {
    let start = instance.get_typed_func::<(), ()>(&mut *store, "_start").map_err(Failure::Engine)?;
    finish_start(start.call(&mut *store, ()))?;
    Ok(store.data().stdout.contents().to_vec())
}
