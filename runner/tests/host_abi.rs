//! The host side against small hand-written modules: ABI detection, hostile
//! pointers, deadlines, memory limits and exit codes. No SDK involved.

use std::path::PathBuf;
use std::time::Duration;

use kwconform::case::{HostResponse, Op};
use kwconform::host::{
    Abi, Answer, EngineFailure, GuestModule, HostEngine, HostScript, Limit, Limits, ModuleError,
};

fn module(dir: &tempfile::TempDir, name: &str, wat: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, wat::parse_str(wat).unwrap()).unwrap();
    path
}

fn engine(timeout: Duration) -> HostEngine {
    HostEngine::new(Limits { timeout, memory_bytes: 64 << 20, ..Limits::default() }).unwrap()
}

fn script() -> HostScript {
    HostScript { op: Op::OciManifest, response: HostResponse::Success(b"{}".to_vec()) }
}

const WAPC_IMPORTS: &str = r#"
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (memory (export "memory") 1)
"#;

fn wapc_guest(body: &str) -> String {
    format!("(module {WAPC_IMPORTS} (func (export \"__guest_call\") (param i32 i32) (result i32) {body}))")
}

#[test]
fn a_module_with_neither_abi_is_refused_naming_its_imports() {
    let dir = tempfile::tempdir().unwrap();
    let path = module(&dir, "none.wasm", r#"(module (import "env" "log" (func (param i32))))"#);
    let error = GuestModule::load(&engine(Duration::from_secs(1)), &path).err().unwrap();
    assert!(matches!(error, ModuleError::UnknownAbi { .. }), "{error}");
    assert!(error.to_string().contains("env.log"), "{error}");
}

#[test]
fn a_module_with_both_abis_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let wat = r#"(module
        (import "wapc" "__guest_response" (func (param i32 i32)))
        (import "host" "call" (func (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32))))"#;
    let error =
        GuestModule::load(&engine(Duration::from_secs(1)), &module(&dir, "both.wasm", wat)).err().unwrap();
    assert!(matches!(error, ModuleError::AmbiguousAbi { .. }), "{error}");
}

#[test]
fn the_abi_is_detected_from_the_imports() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(Duration::from_secs(1));
    let wapc = GuestModule::load(&engine, &module(&dir, "w.wasm", &wapc_guest("i32.const 1"))).unwrap();
    assert_eq!(wapc.abi, Abi::Wapc);
    let wasi = r#"(module
        (import "host" "call" (func (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "_start")))"#;
    assert_eq!(GuestModule::load(&engine, &module(&dir, "c.wasm", wasi)).unwrap().abi, Abi::WasiCli);
}

#[test]
fn a_bad_pointer_is_a_trap_for_that_invocation_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(Duration::from_secs(5));
    let body = "(drop (call $host_call (i32.const 0xfffffff0) (i32.const 64) (i32.const 0) (i32.const 0) \
                (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))) i32.const 1";
    let guest = GuestModule::load(&engine, &module(&dir, "bad.wasm", &wapc_guest(body))).unwrap();
    let invocation = guest.invoke(&engine, "oci_manifest", b"{}", script());
    match invocation.result {
        Err(EngineFailure::Trap(message)) => assert!(message.contains("out-of-bounds"), "{message}"),
        other => panic!("expected a trap, got {other:?}"),
    }
    // The same module keeps working for the next invocation: a fresh instance each time.
    assert!(matches!(
        guest.invoke(&engine, "oci_manifest", b"{}", script()).result,
        Err(EngineFailure::Trap(_))
    ));
}

#[test]
fn empty_buffers_may_carry_any_pointer() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(Duration::from_secs(5));
    let body = "(drop (call $host_call (i32.const 0xfffffff0) (i32.const 0) (i32.const -1) (i32.const 0) \
                (i32.const 7) (i32.const 0) (i32.const 0x7fffffff) (i32.const 0))) \
                (call $guest_response (i32.const -1) (i32.const 0)) i32.const 1";
    let guest = GuestModule::load(&engine, &module(&dir, "empty.wasm", &wapc_guest(body))).unwrap();
    let invocation = guest.invoke(&engine, "oci_manifest", b"{}", script());
    assert_eq!(invocation.result, Ok(Vec::new()));
    assert_eq!(invocation.calls.len(), 1);
    assert_eq!(
        (invocation.calls[0].operation.as_str(), invocation.calls[0].payload.as_slice()),
        ("", &b""[..])
    );
    // The host rejected the unknown (empty) binding, with the real host's text.
    assert_eq!(invocation.calls[0].answer, Answer::Error("unknown binding: ".into()));
}

#[test]
fn a_guest_that_never_returns_hits_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(Duration::from_millis(200));
    let guest =
        GuestModule::load(&engine, &module(&dir, "loop.wasm", &wapc_guest("(loop $l (br $l)) i32.const 1")))
            .unwrap();
    let invocation = guest.invoke(&engine, "oci_manifest", b"{}", script());
    assert_eq!(invocation.result, Err(EngineFailure::Limit(Limit::Timeout)));
    assert!(invocation.result.unwrap_err().is_runner_limit());
}

#[test]
fn outgrowing_the_memory_limit_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(Duration::from_secs(5));
    // 2000 pages are 125 MiB, over the 64 MiB limit; the guest traps when refused.
    let body = "(if (i32.eq (memory.grow (i32.const 2000)) (i32.const -1)) (then unreachable)) i32.const 1";
    let guest = GuestModule::load(&engine, &module(&dir, "grow.wasm", &wapc_guest(body))).unwrap();
    assert_eq!(
        guest.invoke(&engine, "oci_manifest", b"{}", script()).result,
        Err(EngineFailure::Limit(Limit::Memory))
    );
}

#[test]
fn a_wasi_command_succeeds_on_exit_zero_and_fails_on_other_codes() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(Duration::from_secs(5));
    let command = |code: i32| {
        format!(
            r#"(module
            (import "host" "call" (func (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (memory (export "memory") 1)
            (func (export "_start") (call $exit (i32.const {code}))))"#
        )
    };
    let ok = GuestModule::load(&engine, &module(&dir, "ok.wasm", &command(0))).unwrap();
    assert_eq!(ok.invoke(&engine, "oci_manifest", b"", script()).result, Ok(Vec::new()));
    let failed = GuestModule::load(&engine, &module(&dir, "three.wasm", &command(3))).unwrap();
    assert_eq!(
        failed.invoke(&engine, "oci_manifest", b"", script()).result,
        Err(EngineFailure::Exit { code: 3 })
    );
}

#[test]
fn a_wapc_guest_error_is_an_engine_failure_with_its_message() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(Duration::from_secs(5));
    let wat = r#"(module
        (import "wapc" "__guest_error" (func $guest_error (param i32 i32)))
        (memory (export "memory") 1)
        (data (i32.const 16) "no such op")
        (func (export "__guest_call") (param i32 i32) (result i32)
            (call $guest_error (i32.const 16) (i32.const 10)) i32.const 0))"#;
    let guest = GuestModule::load(&engine, &module(&dir, "err.wasm", wat)).unwrap();
    assert_eq!(
        guest.invoke(&engine, "oci_manifest", b"{}", script()).result,
        Err(EngineFailure::GuestError("no such op".into()))
    );
}

#[test]
fn a_wapc_reactor_is_initialised_before_wapc_init_and_the_call() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(Duration::from_secs(5));
    // `_initialize` must run first (Go c-shared reactors), then `wapc_init`; the call
    // traps unless both ran in that order.
    let wat = format!(
        r#"(module {WAPC_IMPORTS}
        (global $stage (mut i32) (i32.const 0))
        (func (export "_initialize") (global.set $stage (i32.const 1)))
        (func (export "wapc_init")
            (if (i32.ne (global.get $stage) (i32.const 1)) (then unreachable))
            (global.set $stage (i32.const 2)))
        (func (export "__guest_call") (param i32 i32) (result i32)
            (if (i32.ne (global.get $stage) (i32.const 2)) (then unreachable))
            (call $guest_response (i32.const 0) (i32.const 0)) i32.const 1))"#
    );
    let guest = GuestModule::load(&engine, &module(&dir, "reactor.wasm", &wat)).unwrap();
    assert_eq!(guest.invoke(&engine, "oci_manifest", b"{}", script()).result, Ok(Vec::new()));
}

/// wasmtime-provider slices guest memory unchecked: a bad pointer panics it. The panic
/// ends that invocation as a trap, and the runner goes on.
#[test]
fn the_wasmtime_provider_host_turns_its_own_panic_into_a_trap() {
    let dir = tempfile::tempdir().unwrap();
    let engine =
        engine(Duration::from_secs(5)).with_wapc_host(kwconform::host::WapcHostFlavour::WasmtimeProvider);
    let body = "(drop (call $host_call (i32.const 0x7ffffff0) (i32.const 64) (i32.const 0) (i32.const 0) \
                (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))) i32.const 1";
    let guest = GuestModule::load(&engine, &module(&dir, "bad-pointer.wasm", &wapc_guest(body))).unwrap();
    let invocation = guest.invoke(&engine, "oci_manifest", b"{}", script());
    assert!(
        matches!(&invocation.result, Err(EngineFailure::Trap(m)) if m.contains("wasmtime-provider host panicked")),
        "{:?}",
        invocation.result
    );
    // The same module under kwconform's host: a trap from the bounds check, no panic.
    let ours = kwconform::host::HostEngine::new(Limits::default()).unwrap();
    let guest = GuestModule::load(&ours, &module(&dir, "bad-pointer-2.wasm", &wapc_guest(body))).unwrap();
    let invocation = guest.invoke(&ours, "oci_manifest", b"{}", script());
    assert!(
        matches!(&invocation.result, Err(EngineFailure::Trap(m)) if m.contains("out-of-bounds")),
        "{:?}",
        invocation.result
    );
}
