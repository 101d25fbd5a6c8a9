//! Kubewarden's WASI-CLI ABI (the Go SDK built with the standard Go compiler): the
//! `host.call` import, answers through stdin, a WASI command run with `_start`.

use wasmtime::{Instance, Linker, Store};

use super::calls::Answer;
use super::state::{self, HostState};
use super::{Failure, finish_start};

/// `host.call`: 8 × i32 (binding, namespace, operation, payload) → i32, 0 = ok,
/// 1 = error (the opposite of waPC). The answer, or the error text, replaces stdin.
pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    state::define_host_call(linker, "host", "call", |state, answer| {
        let (status, bytes) = match answer {
            Answer::Success(bytes) => (0, bytes),
            Answer::Error(message) => (1, message.into_bytes()),
        };
        state.stdin.replace(bytes);
        status
    })
}

/// Runs the command (argv and stdin were set up with the store); stdout is the answer.
pub(super) fn invoke(store: &mut Store<HostState>, instance: Instance) -> Result<Vec<u8>, Failure> {
    let start = instance.get_typed_func::<(), ()>(&mut *store, "_start").map_err(Failure::Engine)?;
    finish_start(start.call(&mut *store, ()))?;
    Ok(store.data().stdout.contents())
}
