//! Kubewarden's WASI-CLI ABI (the Go SDK built with the standard Go compiler): the
//! `host.call` import, answers through stdin, a WASI command run with `_start`.

use wasmtime::{Instance, Linker, Store};

use super::calls::Answer;
use super::state::{self, HostState};
use super::{Failure, Served, finish_start};

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

/// Runs the command once for the whole batch (argv and stdin, one request per line,
/// were set up with the store). Request `i` is answered by result line `i`: its host
/// calls, stderr and time are those before that line. A failure belongs to the first
/// request without a line, and ends the instance.
pub(super) fn serve(store: &mut Store<HostState>, instance: Instance, requests: usize) -> Vec<Served> {
    let outcome = instance
        .get_typed_func::<(), ()>(&mut *store, "_start")
        .map_err(Failure::Engine)
        .and_then(|start| finish_start(start.call(&mut *store, ())));
    let data = store.data();
    let (stdout, stderr, lines) = (data.stdout.contents(), data.stderr.contents(), data.stdout.lines());
    let answered = lines.len().min(requests);
    // A guest that ends well answered the request after its last complete line with what
    // follows it (a last line without its newline, or nothing: a protocol error later).
    let (kept, last) = match outcome {
        Ok(()) if answered == requests => (requests, None),
        Ok(()) => {
            (answered, Some(Ok(stdout[lines.get(answered.wrapping_sub(1)).map_or(0, |l| l.end)..].to_vec())))
        }
        Err(failure) => (answered.min(requests - 1), Some(Err(failure))),
    };
    let mut served = Vec::with_capacity(kept + 1);
    let (mut out, mut err, mut begun) = (0, 0, data.started);
    for (index, line) in lines.iter().take(kept).enumerate() {
        // The last answer carries whatever the guest wrote after it too (a protocol error).
        let end = if index + 1 == requests { stdout.len() } else { line.end };
        let answer = stdout[out..end].to_vec();
        let mut one = Served::new(Ok(answer.clone()), answer, stderr[err..line.companion].to_vec(), begun);
        one.ended = line.at;
        served.push(one);
        (out, err, begun) = (line.end, line.companion, line.at);
    }
    if let Some(result) = last {
        served.push(Served::new(result, stdout[out..].to_vec(), stderr[err..].to_vec(), begun));
    }
    served
}
