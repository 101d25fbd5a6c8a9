//! The `kwconform` binary: exit codes, located errors, and what a divergence report names.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use kwconform::report::Report;

fn kwconform(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kwconform"));
    command.args(args).env("NO_COLOR", "1");
    command.output().expect("kwconform runs")
}

/// `--guest` options for the real guests (built once by the test helper).
fn guest_args() -> Vec<String> {
    common::guest_specs()
        .iter()
        .flat_map(|g| ["--guest".to_string(), format!("{}={}", g.name, g.path.display())])
        .collect()
}

fn run_cases(dir: &Path, report: &Path) -> Output {
    let mut args = vec![
        "run".to_string(),
        "--cases".into(),
        dir.display().to_string(),
        "--report".into(),
        report.display().to_string(),
    ];
    args.extend(guest_args());
    kwconform(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const NO_MEDIA_TYPE: &str = r#"{
  "id": "cli/no-media-type",
  "description": "image manifest without mediaType",
  "op": "oci_manifest",
  "image": "ghcr.io/kubewarden/policies/safe-labels:v1.0.0",
  "origin": "synthetic",
  "response": {"json": {"schemaVersion": 2,
    "config": {"mediaType": "application/vnd.wasm.config.v1+json", "digest": "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b", "size": 2},
    "layers": []}}EXPECT
}"#;

#[test]
fn an_undocumented_divergence_exits_1_and_names_sdk_op_path_and_values() {
    let (cases, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(cases.path().join("c.json"), NO_MEDIA_TYPE.replace("EXPECT", "")).unwrap();
    let output = run_cases(cases.path(), reports.path());
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{}", text(&output.stderr));
    assert!(stdout.contains("DIVERGE      oci_manifest  cli/no-media-type"), "{stdout}");
    assert!(stdout.contains("  /outcome\n"), "{stdout}");
    assert!(stdout.contains("rust (kubewarden-policy-sdk 0.17.3) \"ok\""), "{stdout}");
    assert!(stdout.contains("go (policy-sdk-go v0.13.1)          \"error\""), "{stdout}");
    assert!(stdout.contains("not a valid media type"), "{stdout}");
    let report: Report =
        serde_json::from_slice(&std::fs::read(reports.path().join("report.json")).unwrap()).unwrap();
    assert_eq!((report.summary.total.diverge, report.summary.total.unexpected), (1, 1));
}

#[test]
fn a_met_case_expect_pins_behaviour_but_does_not_accept_the_divergence() {
    let (cases, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let expect = r#",
  "expect": {"guests": {"rust": {"outcome": "ok", "kind": "image"}, "go": {"outcome": "error"}}}"#;
    std::fs::write(cases.path().join("c.json"), NO_MEDIA_TYPE.replace("EXPECT", expect)).unwrap();
    let output = run_cases(cases.path(), reports.path());
    // Accepting a divergence is the expectations list's job (tests/expectations.rs).
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("DIVERGE      oci_manifest  cli/no-media-type"));
    assert!(!text(&output.stdout).contains("expectation unmet"));
}

#[test]
fn an_unmet_expectation_exits_1() {
    let (cases, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let expect = r#",
  "expect": {"guests": {"rust": {"outcome": "error"}, "go": {"outcome": "error"}}}"#;
    std::fs::write(cases.path().join("c.json"), NO_MEDIA_TYPE.replace("EXPECT", expect)).unwrap();
    let output = run_cases(cases.path(), reports.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stdout).contains("expectation unmet: rust: expected error, got ok/image"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn a_malformed_case_file_exits_2_naming_file_line_and_column() {
    let (cases, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let path = cases.path().join("bad.json");
    std::fs::write(
        &path,
        NO_MEDIA_TYPE.replace("EXPECT", "").replace("\"origin\": \"synthetic\"", "\"origin\": \"somewhere\""),
    )
    .unwrap();
    let output = kwconform(&[
        "run",
        "--cases",
        &cases.path().display().to_string(),
        "--report",
        &reports.path().display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains(&format!("{}:6:23: unknown variant `somewhere`", path.display())), "{stderr}");
    assert!(!reports.path().join("report.json").exists());
}

#[test]
fn a_module_that_speaks_no_known_abi_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("odd.wasm");
    std::fs::write(&module, wat::parse_str(r#"(module (import "env" "abort" (func)))"#).unwrap()).unwrap();
    std::fs::write(dir.path().join("c.json"), NO_MEDIA_TYPE.replace("EXPECT", "")).unwrap();
    let (a, b) = (format!("a={}", module.display()), format!("b={}", module.display()));
    let output =
        kwconform(&["run", "--cases", &dir.path().display().to_string(), "--guest", &a, "--guest", &b]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("imports neither `wapc` functions (waPC) nor `host.call`"),
        "{}",
        text(&output.stderr)
    );
    assert!(text(&output.stderr).contains("env.abort"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(kwconform(&["run", "--raw", "somewhere"]).status.code(), Some(2));
    assert_eq!(kwconform(&["run", "--guest", "no-equals-sign"]).status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.json"), NO_MEDIA_TYPE.replace("EXPECT", "")).unwrap();
    let output = kwconform(&["run", "--cases", &dir.path().display().to_string(), "--only", "nothing/*"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("no case id matches"));
}

#[test]
fn relay_prints_what_the_host_sends_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw");
    std::fs::create_dir(&raw).unwrap();
    let manifest = r#"{"layers": [], "schemaVersion": 2, "extra": 1,
        "config": {"size": 2, "mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"}}"#;
    std::fs::write(raw.join("m.json"), manifest).unwrap();
    std::fs::write(raw.join("schema1.json"), r#"{"schemaVersion": 1}"#).unwrap();

    let one = kwconform(&["relay", &raw.join("m.json").display().to_string()]);
    assert_eq!(one.status.code(), Some(0));
    assert!(
        text(&one.stdout).starts_with(r#"{"schemaVersion":2,"config":{"mediaType":"#),
        "{}",
        text(&one.stdout)
    );

    let rejected = kwconform(&["relay", &raw.join("schema1.json").display().to_string()]);
    assert_eq!(rejected.status.code(), Some(1));
    assert!(text(&rejected.stderr).contains("Callback evaluation failure: Unsupported schema version: 1"));

    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("m.json"), "mine").unwrap();
    let folder = kwconform(&["relay", &raw.display().to_string(), "--out", &out.display().to_string()]);
    assert_eq!(folder.status.code(), Some(0), "{}", text(&folder.stderr));
    assert!(text(&folder.stdout).contains("1 relayed responses written"), "{}", text(&folder.stdout));
    assert_eq!(std::fs::read_to_string(out.join("m.json")).unwrap(), "mine");
    assert!(std::fs::read_to_string(out.join("schema1.json.host-error")).unwrap().contains("schema version"));
}

#[test]
fn run_relay_shows_the_guests_what_the_host_would_send() {
    let (cases, reports) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // A schema 1 document: raw, the SDKs disagree on nothing useful; relayed, the host
    // rejects it and both SDKs see the same host error.
    let case = r#"{"id": "r/schema1", "description": "schema 1", "op": "oci_manifest", "image": "a/b:c",
        "origin": "registry-raw", "response": {"json": {"schemaVersion": 1, "name": "a/b", "tag": "c"}}}"#;
    std::fs::write(cases.path().join("c.json"), case).unwrap();
    let mut args =
        vec!["run".to_string(), "--relay".into(), "--cases".into(), cases.path().display().to_string()];
    args.extend(["--report".into(), reports.path().display().to_string()]);
    args.extend(guest_args());
    let output = kwconform(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    let report: Report =
        serde_json::from_slice(&std::fs::read(reports.path().join("report.json")).unwrap()).unwrap();
    let result = &report.results[0];
    assert_eq!(
        result.response,
        kwconform::report::ResponseEntry::HostError("Unsupported schema version: 1".into())
    );
    assert!(result.tags.contains(&"relayed".to_string()));
}

#[test]
fn repro_shows_one_case_and_exports_a_bundle_that_replays() {
    let id = "oci_manifest/shapes/wasm-policy-artifact";
    let bundle = tempfile::tempdir().unwrap();
    let output = kwconform(&["repro", id, "--trace", "--export", &bundle.path().display().to_string()]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{}", text(&output.stderr));
    assert!(stdout.contains(&format!("case {id} (oci_manifest)")), "{stdout}");
    assert!(
        stdout
            .contains("request: kubewarden/oci/v1/oci_manifest \"ghcr.io/kubewarden/policies/pod-privileged"),
        "{stdout}"
    );
    assert!(stdout.contains("--- rust: kubewarden-policy-sdk 0.17.3 (wapc)"));
    assert!(stdout.contains("--- go: github.com/kubewarden/policy-sdk-go v0.13.1 (wasi-cli)"));
    assert!(stdout.contains("outcome: error") && stdout.contains("outcome: ok/image"));
    assert!(stdout.contains("  at +"), "--trace shows the host calls' timing");
    for file in
        ["bundle/guests.json", "bundle/report/report.json", "bundle/report/report.html", "bundle/session.yml"]
    {
        assert!(bundle.path().join(file).is_file(), "{file}");
    }
    // Another maintainer replays the bundle: the same divergence (unlisted there).
    let replay = tempfile::tempdir().unwrap();
    let mut args = vec!["run".to_string(), "--cases".into(), bundle.path().display().to_string()];
    args.extend(["--report".into(), replay.path().display().to_string()]);
    args.extend(guest_args());
    let output = kwconform(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stdout).contains(&format!("DIVERGE      oci_manifest  {id}")));
    // A bundle is never written over.
    let again = kwconform(&["repro", id, "--export", &bundle.path().display().to_string()]);
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn shard_runs_merge_into_one_set_of_reports() {
    let cases = tempfile::tempdir().unwrap();
    for i in 0..6 {
        let case = AGREEING_TEMPLATE.replace("ID", &format!("m/{i}"));
        std::fs::write(cases.path().join(format!("{i}.json")), case).unwrap();
    }
    let reports: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    for (k, dir) in reports.iter().enumerate() {
        let mut args = vec!["run".to_string(), "--quiet".into(), "--shard".into(), format!("{}/3", k + 1)];
        args.extend([
            "--cases".into(),
            cases.path().display().to_string(),
            "--report".into(),
            dir.path().display().to_string(),
        ]);
        args.extend(guest_args());
        let output = kwconform(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    }
    let merged = tempfile::tempdir().unwrap();
    let mut args = vec!["merge".to_string()];
    args.extend(reports.iter().map(|d| d.path().display().to_string()));
    args.extend(["--report".into(), merged.path().display().to_string()]);
    let output = kwconform(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: Report =
        serde_json::from_slice(&std::fs::read(merged.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(
        report.results.iter().map(|r| r.case.as_str()).collect::<Vec<_>>(),
        ["m/0", "m/1", "m/2", "m/3", "m/4", "m/5"]
    );
    for file in ["junit.xml", "summary.md", "report.html"] {
        assert!(merged.path().join(file).is_file());
    }
    // A shard that does not follow the report schema is refused, with the reason.
    let path = reports[0].path().join("report.json");
    let mut shard: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    shard["summary"]["total"]["cases"] = serde_json::json!("six");
    std::fs::write(&path, shard.to_string()).unwrap();
    let output = kwconform(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("does not follow docs/report.schema.json: /summary/total/cases"), "{stderr}");
    std::fs::write(&path, "{").unwrap();
    let output = kwconform(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("report.json:1:1"), "{}", text(&output.stderr));
}

const AGREEING_TEMPLATE: &str = r#"{"id": "ID", "description": "host error", "op": "manifest_digest",
  "image": "ghcr.io/a/b:c", "origin": "synthetic", "response": {"host_error": "manifest unknown"}}"#;
