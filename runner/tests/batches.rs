//! Batched execution cannot change a verdict: the whole corpus gives the same results
//! batched on every core as fresh one case at a time; host calls, output and failures
//! belong to the request that made them; reports come out in case-id order.

mod common;

use std::path::PathBuf;

use kwconform::case::{HostResponse, Op};
use kwconform::guest::{GuestSpec, Outcome};
use kwconform::guest_build::Project;
use kwconform::host::{Answer, HostEngine, HostScript, Limits, Request};
use kwconform::run::{CaseResult, Execution, Isolation, Runner};

fn runner(execution: Execution) -> Runner {
    let engine = common::engine(Limits::default());
    Runner::new(engine, common::guest_specs(), |_| {}).unwrap().with_execution(execution)
}

/// Everything a result shows but timings.
fn observed(r: &CaseResult) -> String {
    let runs: Vec<String> = r
        .runs
        .iter()
        .map(|(name, run)| {
            let calls: Vec<String> = run
                .invocation
                .calls
                .iter()
                .map(|c| {
                    format!("{}/{}/{} {:?} -> {:?}", c.binding, c.namespace, c.operation, c.payload, c.answer)
                })
                .collect();
            let outcome = match &run.outcome {
                Outcome::Error { .. } => "error".to_string(),
                other => format!("{other:?}"),
            };
            format!("{name}: {outcome} {calls:?}")
        })
        .collect();
    format!(
        "{} {:?} {:?} {:?} {}",
        r.case.id,
        r.comparison.verdict,
        r.comparison.diffs,
        r.judgement,
        runs.join("; ")
    )
}

#[test]
fn the_corpus_gives_the_same_results_batched_in_parallel_as_fresh_one_at_a_time() {
    let mut cases = kwconform::case::load_cases(&[Project::this_checkout().cases_dir()]).unwrap();
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    let fresh = runner(Execution { isolation: Isolation::Fresh, jobs: 1 }).run_collect(&cases);
    let batched = runner(Execution { isolation: Isolation::Batched { size: 32, recheck: false }, jobs: 2 })
        .run_collect(&cases);
    assert_eq!(fresh.results.len(), cases.len());
    assert_eq!(batched.results.len(), cases.len());
    let ids: Vec<&str> = batched.results.iter().map(|r| r.case.id.as_str()).collect();
    let sorted: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, sorted, "results come in case order whatever the scheduling");
    let differing: Vec<String> = fresh
        .results
        .iter()
        .zip(&batched.results)
        .filter(|(f, b)| observed(f) != observed(b) || b.batch_unstable)
        .map(|(f, b)| format!("fresh:   {}\nbatched: {}", observed(f), observed(b)))
        .collect();
    assert!(differing.is_empty(), "{} cases differ:\n{}", differing.len(), differing.join("\n"));
}

fn request(image: &str, response: &str) -> Request {
    Request {
        payload: serde_json::to_vec(&serde_json::json!({ "image": image })).unwrap(),
        script: HostScript {
            op: Op::ManifestDigest,
            response: HostResponse::Success(response.as_bytes().to_vec()),
        },
    }
}

/// In one instance, each request's host calls are answered from its own script and
/// recorded with it, over waPC (Rust) and WASI-CLI (Go) alike.
#[test]
fn host_calls_belong_to_the_request_that_made_them() {
    let engine = common::engine(Limits::default());
    let digests = [
        "sha256:1111111111111111111111111111111111111111111111111111111111111111",
        "sha256:2222222222222222222222222222222222222222222222222222222222222222",
        "sha256:3333333333333333333333333333333333333333333333333333333333333333",
    ];
    let requests: Vec<Request> = digests
        .iter()
        .enumerate()
        .map(|(i, d)| request(&format!("example.com/image-{i}:v1"), &format!(r#"{{"digest":"{d}"}}"#)))
        .collect();
    for spec in common::guest_specs() {
        let module = kwconform::host::GuestModule::load(&engine, &spec.path).unwrap();
        let served = module.invoke_batch(&engine, "manifest_digest", &requests);
        assert_eq!(served.len(), 3, "{}", spec.name);
        for (i, invocation) in served.iter().enumerate() {
            let answer = String::from_utf8(invocation.result.clone().unwrap()).unwrap();
            assert!(answer.contains(digests[i]), "{} request {i}: {answer}", spec.name);
            assert_eq!(invocation.calls.len(), 1, "{} request {i}", spec.name);
            let payload = String::from_utf8(invocation.calls[0].payload.clone()).unwrap();
            assert!(payload.contains(&format!("image-{i}")), "{} request {i}: {payload}", spec.name);
            assert!(
                matches!(&invocation.calls[0].answer, Answer::Success(b) if b.windows(64).any(|w| w == &digests[i].as_bytes()[7..]))
            );
        }
    }
}

/// A waPC guest in `dir` that describes itself with `describe` and, for any other
/// operation, runs `body` (over `state`) and then answers `result`.
fn wapc_guest(dir: &tempfile::TempDir, describe: &str, result: &str, state: &str, body: &str) -> PathBuf {
    let wat = format!(
        r#"(module
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (memory (export "memory") 1)
  {state}
  (data (i32.const 1024) "{}")
  (data (i32.const 2048) "{}")
  (func (export "__guest_call") (param $op_len i32) (param $len i32) (result i32)
    (if (i32.eq (local.get $op_len) (i32.const 8))
      (then (call $guest_response (i32.const 1024) (i32.const {})) (return (i32.const 1))))
    {body}
    (call $guest_response (i32.const 2048) (i32.const {}))
    (i32.const 1)))"#,
        describe.replace('"', "\\\""),
        result.replace('"', "\\\""),
        describe.len(),
        result.len()
    );
    let path = dir.path().join("guest.wasm");
    std::fs::write(&path, wat::parse_str(wat).unwrap()).unwrap();
    path
}

/// A request that fails ends its instance; the requests after it run in a fresh one, and
/// every request gets the outcome it gets alone.
#[test]
fn a_failure_inside_a_batch_leaves_the_rest_to_a_fresh_instance() {
    let describe =
        r#"{"protocol":1,"sdk":"example.com/odd","sdk_version":"1.0.0","ops":["manifest_digest"]}"#;
    let result = r#"{"outcome":"ok","view":{"digest":"x"}}"#;
    // Traps on a request whose length is odd; answers the others.
    let dir = tempfile::tempdir().unwrap();
    let path = wapc_guest(
        &dir,
        describe,
        result,
        "",
        "(if (i32.and (local.get $len) (i32.const 1)) (then unreachable))",
    );
    let engine = HostEngine::new(Limits::default()).unwrap();
    let guest = kwconform::guest::Guest::load(&engine, "odd", &path).unwrap();
    let response = HostResponse::Success(b"{}".to_vec());
    let images = ["a", "ab", "abc", "abcd", "abcde", "abcdef"];
    let inputs: Vec<_> = images.iter().map(|i| kwconform::case::Case::image_input(i)).collect();
    let requests: Vec<_> = inputs.iter().map(|i| (i, &response)).collect();
    let batched = guest.run_batch(&engine, Op::ManifestDigest, &requests, &|| false);
    let alone: Vec<_> = inputs.iter().map(|i| guest.run(&engine, Op::ManifestDigest, i, &response)).collect();
    assert_eq!(batched.len(), images.len());
    for ((image, b), a) in images.iter().zip(&batched).zip(&alone) {
        assert_eq!(b.outcome.class(), a.outcome.class(), "{image}");
    }
    // `{"image":"a"}` is 13 bytes: odd requests trap, even ones answer.
    let classes: Vec<String> = batched.iter().map(|r| r.outcome.class().to_string()).collect();
    assert_eq!(classes, ["engine-error", "ok", "engine-error", "ok", "engine-error", "ok"]);
}

/// A guest that carries state from one request to the next (it traps on every request
/// after its first in an instance) cannot change a verdict: each case that does not agree
/// in a batch is run again fresh, the fresh result is reported, and the case whose
/// batched and fresh results differ is marked batch-unstable.
#[test]
fn a_guest_with_state_across_requests_is_caught_and_its_fresh_result_reported() {
    let describe =
        r#"{"protocol":1,"sdk":"example.com/stateful","sdk_version":"1.0.0","ops":["manifest_digest"]}"#;
    let result = r#"{"outcome":"error","error":"first request of this instance"}"#;
    let dir = tempfile::tempdir().unwrap();
    let body = "(if (global.get $served) (then unreachable)) (global.set $served (i32.const 1))";
    let path = wapc_guest(&dir, describe, result, "(global $served (mut i32) (i32.const 0))", body);
    let rust = common::guest_specs()[0].clone();
    let guests = [rust, GuestSpec { name: "stateful".into(), path }];
    let digest = r#"{"digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111"}"#;
    let cases: Vec<_> =
        (1..=3).map(|i| common::case(&format!("s/{i}"), Op::ManifestDigest, digest)).collect();
    let run = |execution| {
        Runner::new(common::engine(Limits::default()), &guests, |_| {})
            .unwrap()
            .with_execution(execution)
            .run_collect(&cases)
    };
    let batched = run(Execution { isolation: Isolation::Batched { size: 8, recheck: true }, jobs: 1 });
    let fresh = run(Execution { isolation: Isolation::Fresh, jobs: 1 });
    // In the batch: s/1 answers, s/2 traps (the instance ends), s/3 answers in a new one.
    let unstable: Vec<&str> =
        batched.results.iter().filter(|r| r.batch_unstable).map(|r| r.case.id.as_str()).collect();
    assert_eq!(unstable, ["s/2"]);
    for (b, f) in batched.results.iter().zip(&fresh.results) {
        assert_eq!(observed(b), observed(f), "the fresh result is the one reported");
        assert_eq!(b.runs[1].1.outcome.class(), kwconform::case::OutcomeClass::Error, "{}", b.case.id);
    }
    let report = kwconform::report::Report::from_results(&batched);
    assert_eq!(report.summary.batch_unstable, ["s/2"]);
}

#[test]
fn two_runs_write_the_same_report_but_for_timings() {
    let dir = tempfile::tempdir().unwrap();
    let reports: Vec<serde_json::Value> = (0..2)
        .map(|i| {
            let out = dir.path().join(format!("r{i}"));
            let mut args =
                vec!["run".to_string(), "--quiet".into(), "--only".into(), "oci_manifest/fixtures/*".into()];
            args.extend(["--report".into(), out.display().to_string(), "--jobs".into(), "2".into()]);
            for g in common::guest_specs() {
                args.extend(["--guest".into(), format!("{}={}", g.name, g.path.display())]);
            }
            let output =
                std::process::Command::new(env!("CARGO_BIN_EXE_kwconform")).args(&args).output().unwrap();
            assert!(
                output.status.code().is_some_and(|c| c <= 1),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let mut report: serde_json::Value =
                serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
            strip_timings(&mut report);
            report
        })
        .collect();
    assert_eq!(reports[0], reports[1]);
}

fn strip_timings(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(members) => {
            members.retain(|k, _| {
                !matches!(k.as_str(), "elapsed_us" | "elapsed_ms" | "at_us" | "guest_elapsed_us")
            });
            members.values_mut().for_each(strip_timings);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_timings),
        _ => {}
    }
}

#[test]
fn bench_measures_every_mode_over_every_case_and_the_ceiling_in_one_instance() {
    let mut cases = kwconform::case::load_cases(&[Project::this_checkout().cases_dir()]).unwrap();
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    cases.truncate(40);
    let report = kwconform::bench::bench(
        common::guest_specs(),
        &cases,
        &Project::this_checkout().module_cache_dir(),
        16,
        50,
        |_| {},
    )
    .unwrap();
    let modes: Vec<&str> = report.modes.iter().map(|m| m.mode.as_str()).collect();
    assert_eq!(
        modes,
        ["fresh-serial", "batched-serial", "batched-parallel", "run (batched-parallel, rechecked)"]
    );
    for mode in &report.modes {
        assert_eq!(mode.cases, 40, "{mode:?}");
        assert!(
            mode.executions_per_second > 0.0 && mode.in_guests > 0.0 && mode.in_guests <= 1.0,
            "{mode:?}"
        );
    }
    // Each guest served all of the ceiling's requests in its one warm instance.
    let served: Vec<(&str, usize)> = report.ceiling.iter().map(|c| (c.guest.as_str(), c.requests)).collect();
    assert_eq!(served, [("rust", 50), ("go", 50)]);
    assert!(report.peak_rss_mib > 0.0);
}
