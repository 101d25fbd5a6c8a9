//! Hostile guests: hand-written modules that loop, bomb memory or tables, trap, flood
//! every output, flood host calls, pass bad pointers, sleep, block on stdin, exit, or
//! describe themselves badly. Each runs beside the real Rust guest over one case per
//! operation: the verdict and the cap named are checked, every case runs (the run goes
//! on), and the whole takes a bounded time.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kwconform::case::{Case, Op, OutcomeClass};
use kwconform::compare::Verdict;
use kwconform::guest::{GuestSpec, Outcome};
use kwconform::host::{EngineFailure, GuestModule, HostEngine, HostScript, Limit, Limits};
use kwconform::run::{CaseResult, Runner, RunnerError};

/// A describe answer offering every operation the runner knows, so every case is called.
static DESCRIBE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let ops: Vec<String> = kwconform::case::Op::ALL.iter().map(|op| format!("\"{op}\"")).collect();
    format!(r#"{{"protocol":1,"sdk":"example.com/hostile","sdk_version":"1.0.0","ops":[{}]}}"#, ops.join(","))
});
const RESULT: &str = r#"{"outcome":"error","error":"hostile guest"}"#;

/// WAT string data: every byte but printable ASCII as a `\hh` escape.
fn data(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'"' | b'\\' => format!("\\{b:02x}"),
            0x20..=0x7e => (b as char).to_string(),
            _ => format!("\\{b:02x}"),
        })
        .collect()
}

/// A waPC guest that describes itself with `describe`, answers with `result` (through
/// `$answer`) and runs `body` for every operation.
fn wapc_with(describe: &str, result: &str, body: &str) -> String {
    format!(
        r#"(module
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__console_log" (func $console_log (param i32 i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 2)
  (table $table 1 funcref)
  (data (i32.const 1024) "{describe}")
  (data (i32.const 3072) "{result}")
  (func $recurse (call $recurse))
  (func $answer (result i32) (call $guest_response (i32.const 3072) (i32.const {result_len})) (i32.const 1))
  (func $sleep_an_hour
    (i64.store (i32.const 8192) (i64.const 0))
    (i32.store8 (i32.const 8200) (i32.const 0))
    (i32.store (i32.const 8208) (i32.const 1))
    (i64.store (i32.const 8216) (i64.const 3600000000000))
    (i32.store16 (i32.const 8232) (i32.const 0))
    (drop (call $poll_oneoff (i32.const 8192) (i32.const 8448) (i32.const 1) (i32.const 8704))))
  (func (export "__guest_call") (param $op_len i32) (param $len i32) (result i32)
    (if (i32.eq (local.get $op_len) (i32.const 8))
      (then (call $guest_response (i32.const 1024) (i32.const {describe_len})) (return (i32.const 1))))
    {body}))"#,
        describe = data(describe),
        describe_len = describe.len(),
        result = data(result),
        result_len = result.len(),
    )
}

fn wapc(describe: &str, body: &str) -> String {
    wapc_with(describe, RESULT, body)
}

/// A WASI-CLI guest: it reads its stdin once; three bytes (`{{}}\n`) is `describe`.
fn wasi_cli(body: &str) -> String {
    format!(
        r#"(module
  (import "host" "call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 2)
  (data (i32.const 1024) "{describe}\n")
  (data (i32.const 3072) "{result}\n")
  (func $read (result i32)
    (i32.store (i32.const 16) (i32.const 4096)) (i32.store (i32.const 20) (i32.const 4096))
    (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 24)))
    (i32.load (i32.const 24)))
  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 32) (local.get $ptr)) (i32.store (i32.const 36) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 32) (i32.const 1) (i32.const 40))))
  (func $answer (call $write (i32.const 1) (i32.const 3072) (i32.const {result_len})))
  (func (export "_start")
    (if (i32.eq (call $read) (i32.const 3))
      (then (call $write (i32.const 1) (i32.const 1024) (i32.const {describe_len})) (return)))
    {body}))"#,
        describe = data(&DESCRIBE),
        describe_len = DESCRIBE.len() + 1,
        result = data(RESULT),
        result_len = RESULT.len() + 1,
    )
}

fn limits() -> Limits {
    Limits { timeout: Duration::from_millis(300), ..Limits::default() }
}

fn module(dir: &tempfile::TempDir, name: &str, wat: &str) -> PathBuf {
    let path = dir.path().join(format!("{name}.wasm"));
    std::fs::write(&path, wat::parse_str(wat).unwrap_or_else(|e| panic!("{name}: {e}"))).unwrap();
    path
}

fn cases() -> Vec<Case> {
    let digest = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";
    vec![
        common::case(
            "h/manifest",
            Op::OciManifest,
            &format!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{digest}","size":2}},"layers":[]}}"#
            ),
        ),
        common::case("h/digest", Op::ManifestDigest, &format!(r#"{{"digest":"{digest}"}}"#)),
        common::case("h/config", Op::OciManifestConfig, "{}"),
    ]
}

/// Runs the hostile guest beside the real Rust guest over one case per operation.
fn run_hostile(name: &str, wat: &str) -> Vec<CaseResult> {
    let dir = tempfile::tempdir().unwrap();
    let hostile = GuestSpec { name: "hostile".into(), path: module(&dir, name, wat) };
    let rust = common::guest_specs()[0].clone();
    let runner = Runner::new(common::engine(limits()), &[rust, hostile], |_| {})
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let started = Instant::now();
    let results = runner.run_collect(&cases());
    assert!(!results.interrupted);
    assert_eq!(results.results.len(), 3, "{name}: the run goes on after each case");
    assert!(started.elapsed() < Duration::from_secs(20), "{name}: took {:?}", started.elapsed());
    results.results
}

fn hostile_failure(result: &CaseResult) -> &Outcome {
    &result.runs.iter().find(|(n, _)| n == "hostile").unwrap().1.outcome
}

/// Every case is inconclusive, with `limit` named.
fn assert_limit(name: &str, wat: &str, limit: Limit) {
    for result in run_hostile(name, wat) {
        assert_eq!(
            result.comparison.verdict,
            Verdict::Inconclusive,
            "{name}: {:?}",
            hostile_failure(&result)
        );
        assert_eq!(hostile_failure(&result), &Outcome::EngineError(EngineFailure::Limit(limit)), "{name}");
    }
}

/// Every case is a crash of the given kind.
fn assert_crash(name: &str, wat: &str, kind: &str) {
    for result in run_hostile(name, wat) {
        assert_eq!(result.comparison.verdict, Verdict::Crash, "{name}: {:?}", hostile_failure(&result));
        let Outcome::EngineError(failure) = hostile_failure(&result) else { panic!("{name}") };
        assert_eq!(failure.kind(), kind, "{name}: {failure}");
    }
}

/// The guest answered every case (its canned SDK error), quickly.
fn assert_answers(name: &str, wat: &str) {
    for result in run_hostile(name, wat) {
        assert_eq!(
            hostile_failure(&result).class(),
            OutcomeClass::Error,
            "{name}: {:?}",
            hostile_failure(&result)
        );
    }
}

#[test]
fn an_endless_loop_is_stopped_by_the_deadline() {
    assert_limit("loop", &wapc(&DESCRIBE, "(loop $l (br $l)) (i32.const 0)"), Limit::Timeout);
}

#[test]
fn a_memory_bomb_hits_the_memory_cap() {
    let body = "(loop $l (br_if $l (i32.ne (memory.grow (i32.const 256)) (i32.const -1)))) (i32.const 0)";
    assert_limit("memory-bomb", &wapc(&DESCRIBE, body), Limit::Memory);
}

#[test]
fn a_table_bomb_hits_the_table_cap() {
    let body = "(drop (table.grow $table (ref.null func) (i32.const 0x7fffffff))) (i32.const 0)";
    assert_limit("table-bomb", &wapc(&DESCRIBE, body), Limit::Table);
}

#[test]
fn a_trap_and_a_stack_overflow_are_crashes() {
    assert_crash("trap", &wapc(&DESCRIBE, "unreachable"), "trap");
    assert_crash("stack-overflow", &wapc(&DESCRIBE, "(call $recurse) (i32.const 0)"), "trap");
}

#[test]
fn bad_pointers_are_traps_of_that_case() {
    let body = "(drop (call $host_call (i32.const 0xfffffff0) (i32.const 64) (i32.const 0) (i32.const 0) \
                (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))) (i32.const 1)";
    assert_crash("bad-pointer", &wapc(&DESCRIBE, body), "trap");
}

#[test]
fn console_floods_hit_the_console_cap() {
    let body = "(loop $l (call $console_log (i32.const 0) (i32.const 65536)) (br $l)) (i32.const 0)";
    assert_limit("console-loop", &wapc(&DESCRIBE, body), Limit::Console);
    // One 64 MiB message is refused before anything is copied.
    let body = "(call $console_log (i32.const 0) (i32.const 0x4000000)) (i32.const 0)";
    assert_limit("console-64mib", &wapc(&DESCRIBE, body), Limit::Console);
}

#[test]
fn host_call_floods_hit_their_caps() {
    let call = |len: &str| {
        format!(
            "(call $host_call (i32.const 0) (i32.const 10) (i32.const 0) (i32.const 3) (i32.const 0) \
             (i32.const 15) (i32.const 0) (i32.const {len}))"
        )
    };
    let many = format!("(loop $l (drop {}) (br $l)) (i32.const 0)", call("2"));
    assert_limit("host-call-loop", &wapc(&DESCRIBE, &many), Limit::HostCalls);
    let huge = format!("(drop {}) (i32.const 0)", call("0x4000000"));
    assert_limit("host-call-64mib", &wapc(&DESCRIBE, &huge), Limit::HostCallBytes);
}

#[test]
fn oversized_answers_hit_the_result_cap() {
    let body = "(call $guest_response (i32.const 0) (i32.const 0x4000000)) (i32.const 1)";
    assert_limit("result-64mib", &wapc(&DESCRIBE, body), Limit::Result);
    let flood = "(loop $l (call $write (i32.const 1) (i32.const 0) (i32.const 65536)) (br $l))";
    assert_limit("stdout-flood", &wasi_cli(flood), Limit::Result);
}

#[test]
fn a_stderr_flood_hits_the_stderr_cap() {
    let flood = "(loop $l (call $write (i32.const 2) (i32.const 0) (i32.const 65536)) (br $l))";
    assert_limit("stderr-flood", &wasi_cli(flood), Limit::Stderr);
}

#[test]
fn a_sleep_returns_at_once_and_a_sleeping_loop_meets_the_deadline() {
    // An hour's sleep, then an answer: well within the 300 ms deadline.
    assert_answers("sleep", &wapc(&DESCRIBE, "(call $sleep_an_hour) (call $answer)"));
    assert_limit(
        "sleep-loop",
        &wapc(&DESCRIBE, "(loop $l (call $sleep_an_hour) (br $l)) (i32.const 0)"),
        Limit::Timeout,
    );
}

#[test]
fn a_read_that_would_block_is_end_of_file() {
    assert_answers("blocking-read", &wasi_cli("(drop (call $read)) (drop (call $read)) (call $answer)"));
}

#[test]
fn exits_are_told_apart() {
    assert_crash("exit-3", &wasi_cli("(call $proc_exit (i32.const 3))"), "exit");
    // proc_exit(0) inside a waPC call: the answer given stands; without one, a protocol error.
    assert_answers(
        "exit-0-answered",
        &wapc(&DESCRIBE, "(drop (call $answer)) (call $proc_exit (i32.const 0)) (i32.const 1)"),
    );
    assert_crash(
        "exit-0-silent",
        &wapc(&DESCRIBE, "(call $proc_exit (i32.const 0)) (i32.const 1)"),
        "protocol",
    );
}

#[test]
fn an_operation_the_guest_does_not_offer_is_not_called() {
    let describe =
        r#"{"protocol":1,"sdk":"example.com/hostile","sdk_version":"1.0.0","ops":["oci_manifest"]}"#;
    let results = run_hostile("one-op", &wapc(describe, "unreachable"));
    let kinds: Vec<String> = results
        .iter()
        .map(|r| match hostile_failure(r) {
            Outcome::EngineError(f) => f.kind().to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["trap", "not-offered", "not-offered"]);
    assert_eq!(results[1].comparison.verdict, Verdict::Inconclusive);
}

#[test]
fn guests_that_cannot_be_loaded_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let load = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let specs = [common::guest_specs()[0].clone(), GuestSpec { name: "bad".into(), path }];
        match Runner::new(common::engine(limits()), &specs, |_| {}) {
            Err(RunnerError::Load(e)) => e.to_string(),
            Err(e) => panic!("{name}: {e}"),
            Ok(_) => panic!("{name} loaded"),
        }
    };
    let wasm = |wat: &str| wat::parse_str(wat).unwrap();
    assert!(load("empty.wasm", b"").contains("is not a WebAssembly module: the file is empty"));
    assert!(load("text.wasm", b"(module)").contains("it is text"));
    let no_export = wasm(
        r#"(module (import "wapc" "__guest_response" (func (param i32 i32))) (memory (export "memory") 1))"#,
    );
    assert!(load("no-guest-call.wasm", &no_export).contains("__guest_call"));
    let bad_json = wasm(&wapc("not json", "(i32.const 0)"));
    assert!(load("bad-describe.wasm", &bad_json).contains("failed its describe operation"));
    let protocol_2 = wasm(&wapc(&DESCRIBE.replace(r#""protocol":1"#, r#""protocol":2"#), "(i32.const 0)"));
    assert!(load("protocol-2.wasm", &protocol_2).contains("speaks guest protocol 2"));
    let not_semver = wasm(&wapc(&DESCRIBE.replace("1.0.0", "1.0.0 (local checkout)"), "(i32.const 0)"));
    assert!(load("not-semver.wasm", &not_semver).contains("is not a semver version"));
    let both = wasm(
        r#"(module (import "wapc" "__guest_response" (func (param i32 i32)))
        (import "host" "call" (func (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32))))"#,
    );
    assert!(load("both.wasm", &both).contains("its imports are: wapc.__guest_response, host.call"));
}

/// Limits hit while instantiating are limits too, not `instantiate` failures.
#[test]
fn a_looping_start_function_and_an_oversized_memory_are_limits() {
    let dir = tempfile::tempdir().unwrap();
    let engine = HostEngine::new(limits()).unwrap();
    let script = || HostScript {
        op: Op::OciManifest,
        response: kwconform::case::HostResponse::Success(b"{}".to_vec()),
    };
    let invoke = |name: &str, wat: &str| {
        let guest = GuestModule::load(&engine, &module(&dir, name, wat)).unwrap();
        guest.invoke(&engine, "oci_manifest", b"{}", script()).result
    };
    let start_loop = r#"(module (import "wapc" "__guest_response" (func (param i32 i32))) (memory (export "memory") 1)
        (func $s (loop $l (br $l))) (start $s)
        (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 0)))"#;
    assert_eq!(invoke("start-loop", start_loop), Err(EngineFailure::Limit(Limit::Timeout)));
    let huge_memory = r#"(module (import "wapc" "__guest_response" (func (param i32 i32))) (memory (export "memory") 20000)
        (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 0)))"#;
    assert_eq!(invoke("huge-memory", huge_memory), Err(EngineFailure::Limit(Limit::Memory)));
}

/// What a guest says reaches the terminal and summary.md inert.
#[test]
fn guest_controlled_text_cannot_drive_the_terminal() {
    let describe = DESCRIBE.replace("example.com/hostile", "evil\\u001b[2J\u{9b}31m");
    let result = r#"{"outcome":"error","error":"line\n\u001b[1A\u001b[2KFAKE: PASS"}"#;
    let wat = wapc_with(&describe, result, "(call $answer)");
    let dir = tempfile::tempdir().unwrap();
    let hostile = GuestSpec { name: "hostile".into(), path: module(&dir, "escapes", &wat) };
    let runner =
        Runner::new(common::engine(limits()), &[common::guest_specs()[0].clone(), hostile], |_| {}).unwrap();
    let report = kwconform::report::Report::from_results(&runner.run_collect(&cases()));
    let mut terminal = Vec::new();
    for result in &report.results {
        let options = kwconform::report::TerminalOptions { verbose: true, quiet: false };
        kwconform::report::render_result(&mut terminal, result, &report.guests, options).unwrap();
    }
    let terminal = String::from_utf8(terminal).unwrap();
    assert!(terminal.contains("FAKE: PASS") && terminal.contains("evil"), "{terminal}");
    // The terminal's own styles are escape sequences too; the guest's are not there.
    for text in [terminal, kwconform::report::markdown(&report.head(), &report.results)] {
        for sequence in ["\u{1b}[2J", "\u{1b}[1A", "\u{1b}[2K", "\u{9b}"] {
            assert!(!text.contains(sequence), "{sequence:?} in {text}");
        }
        assert!(!text.lines().any(|l| l.starts_with("FAKE")), "{text}");
    }
}

/// SIGTERM (or Ctrl-C) in the middle of a run: the cases finished are reported, marked
/// partial, and the exit code says interrupted.
#[test]
fn an_interrupted_run_writes_a_partial_report() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let looping = module(&dir, "loop", &wapc(&DESCRIBE, "(loop $l (br $l)) (i32.const 0)"));
    let cases = dir.path().join("cases");
    std::fs::create_dir(&cases).unwrap();
    for i in 0..30 {
        let case = format!(
            r#"{{"id": "t/{i}", "description": "d", "op": "manifest_digest", "image": "a/b:c", "origin": "synthetic", "response": {{"json": {{"digest": "x"}}}}}}"#
        );
        std::fs::write(cases.join(format!("{i}.json")), case).unwrap();
    }
    let reports = dir.path().join("reports");
    let rust = &common::guest_specs()[0];
    let mut child = Command::new(env!("CARGO_BIN_EXE_kwconform"))
        .args([
            "run",
            "--timeout",
            "0.5",
            "--isolation",
            "fresh",
            "--cases",
            cases.to_str().unwrap(),
            "--report",
            reports.to_str().unwrap(),
        ])
        .args([
            "--guest",
            &format!("rust={}", rust.path.display()),
            "--guest",
            &format!("loop={}", looping.display()),
        ])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first case is reported (each takes half a second), stop the run.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first =
        lines.by_ref().map(Result::unwrap).find(|l| l.starts_with("INCONCLUSIVE")).expect("a first result");
    assert!(first.contains("t/"), "{first}");
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(kwconform::exit_codes::INTERRUPTED), "{rest:#?}");
    assert!(rest.iter().any(|l| l.starts_with("INTERRUPTED:")), "{rest:#?}");
    let report: kwconform::report::Report =
        serde_json::from_slice(&std::fs::read(reports.join("report.json")).unwrap()).unwrap();
    assert!(report.partial);
    assert!((1..30).contains(&report.results.len()), "{} results", report.results.len());
}

/// The whole corpus against a guest that floods a different cap on each case (memory,
/// tables, console, host calls, result, stderr, time): what the run keeps is bounded by
/// the caps, not by the corpus, and its peak memory stays under 500 MB.
#[test]
fn a_run_flooding_every_cap_stays_under_500_mb() {
    let flood = r#"
    (if (i32.eq (i32.rem_u (local.get $len) (i32.const 7)) (i32.const 0)) (then
      (loop $l (br_if $l (i32.ne (memory.grow (i32.const 256)) (i32.const -1))))))
    (if (i32.eq (i32.rem_u (local.get $len) (i32.const 7)) (i32.const 1)) (then
      (drop (table.grow $table (ref.null func) (i32.const 0x7fffffff)))))
    (if (i32.eq (i32.rem_u (local.get $len) (i32.const 7)) (i32.const 2)) (then
      (loop $l (call $console_log (i32.const 0) (i32.const 16384)) (br $l))))
    (if (i32.eq (i32.rem_u (local.get $len) (i32.const 7)) (i32.const 3)) (then
      (loop $l (drop (call $host_call (i32.const 0) (i32.const 10) (i32.const 0) (i32.const 3)
        (i32.const 0) (i32.const 15) (i32.const 0) (i32.const 2))) (br $l))))
    (if (i32.eq (i32.rem_u (local.get $len) (i32.const 7)) (i32.const 4)) (then
      (call $guest_response (i32.const 0) (i32.const 0x4000000))))
    (if (i32.eq (i32.rem_u (local.get $len) (i32.const 7)) (i32.const 5)) (then
      (i32.store (i32.const 32) (i32.const 0)) (i32.store (i32.const 36) (i32.const 65536))
      (loop $l (drop (call $fd_write (i32.const 2) (i32.const 32) (i32.const 1) (i32.const 40))) (br $l))))
    (loop $l (br $l))
    (i32.const 0)"#;
    let wat = wapc(&DESCRIBE, flood).replace(
        r#"(import "wasi_snapshot_preview1" "proc_exit""#,
        r#"(import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit""#,
    );
    let dir = tempfile::tempdir().unwrap();
    let flooding = module(&dir, "flood", &wat);
    let rust = &common::guest_specs()[0];
    let reports = dir.path().join("reports");
    let run = || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kwconform"));
        command
            .args(["run", "--quiet", "--timeout", "0.1", "--report", reports.to_str().unwrap()])
            .args(["--guest", &format!("rust={}", rust.path.display())])
            .args(["--guest", &format!("flood={}", flooding.display())]);
        command
    };
    // Compiling a module (once, into the module cache) is not what the caps bound: the
    // measured run finds both compiled.
    let warm = run().args(["--only", "get_resource/kwctl/**"]).output().unwrap();
    assert_eq!(warm.status.code(), Some(1), "{}", String::from_utf8_lossy(&warm.stderr));
    let child =
        run().stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    // The child's own high-water mark, VmHWM, read until it exits: its rusage would count
    // the RSS of this test process at the spawn too (Linux keeps the pre-exec maximum).
    let status_file = format!("/proc/{}/status", child.id());
    let stop = std::sync::atomic::AtomicBool::new(false);
    let peak_kib = std::thread::scope(|scope| {
        let poll = scope.spawn(|| {
            let mut peak = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let hwm = std::fs::read_to_string(&status_file).ok().and_then(|s| {
                    s.lines().find_map(|l| l.strip_prefix("VmHWM:")?.trim().strip_suffix(" kB")?.parse().ok())
                });
                peak = peak.max(hwm.unwrap_or(0));
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            peak
        });
        let output = child.wait_with_output().unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
        poll.join().unwrap()
    });
    let report: kwconform::report::Report =
        serde_json::from_slice(&std::fs::read(reports.join("report.json")).unwrap()).unwrap();
    assert!(report.results.len() > 800);
    let mut limits: Vec<&str> =
        report.results.iter().filter_map(|r| r.guests["flood"].engine_error.as_deref()).collect();
    limits.sort();
    limits.dedup();
    assert_eq!(
        limits,
        [
            "console-limit",
            "host-call-limit",
            "memory-limit",
            "result-limit",
            "stderr-limit",
            "table-limit",
            "timeout"
        ]
    );
    assert!(report.results.iter().all(|r| r.verdict == Verdict::Inconclusive));
    assert!(peak_kib > 0, "VmHWM was read");
    assert!(peak_kib < 500 * 1024, "peak RSS {} MiB", peak_kib / 1024);
    eprintln!("a run flooding every cap: peak RSS {} MiB", peak_kib / 1024);
}
