//! The expectations list as a release gate: a listed divergence passes, and removing,
//! staling or changing an entry fails the run; `expectations update` and `check`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use kwconform::expectations::ExpectationsFile;
use kwconform::guest_build::Project;

fn kwconform(args: &[String]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kwconform"));
    command.args(args).env("NO_COLOR", "1");
    command.output().expect("kwconform runs")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// `run` over a case folder with the real guests.
fn run(cases: &Path, report: &Path) -> Output {
    let mut a =
        args(&["run", "--cases", &cases.display().to_string(), "--report", &report.display().to_string()]);
    for g in common::guest_specs() {
        a.extend(args(&["--guest", &format!("{}={}", g.name, g.path.display())]));
    }
    kwconform(&a)
}

fn update(report: &Path, file: &Path) -> Output {
    kwconform(&args(&[
        "expectations",
        "update",
        "--report",
        &report.display().to_string(),
        "--file",
        &file.display().to_string(),
    ]))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn read(path: &Path) -> ExpectationsFile {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write(path: &Path, file: &ExpectationsFile) {
    std::fs::write(path, serde_json::to_vec_pretty(file).unwrap()).unwrap();
}

const DIVERGING: &str = r#"{"id": "t/no-media-type", "description": "no mediaType", "op": "oci_manifest",
  "image": "ghcr.io/a/b:c", "origin": "synthetic",
  "response": {"json": {"schemaVersion": 2, "config": {"mediaType": "application/vnd.wasm.config.v1+json",
    "digest": "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b", "size": 2}, "layers": []}}}"#;

const AGREEING: &str = r#"{"id": "t/host-error", "description": "host error", "op": "manifest_digest",
  "image": "ghcr.io/a/b:c", "origin": "synthetic", "response": {"host_error": "manifest unknown"}}"#;

fn two_cases() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("diverging.json"), DIVERGING).unwrap();
    std::fs::write(dir.path().join("agreeing.json"), AGREEING).unwrap();
    dir
}

#[test]
fn update_records_divergences_keeps_causes_and_the_gate_follows_the_list() {
    let (cases, reports) = (two_cases(), tempfile::tempdir().unwrap());
    let list = cases.path().join("expectations.json");

    // Unlisted: the divergence fails the run, and the summary says how to record it.
    let first = run(cases.path(), reports.path());
    assert_eq!(first.status.code(), Some(1), "{}", stdout(&first));
    assert!(stdout(&first).contains("kwconform expectations update"), "{}", stdout(&first));

    // Recorded: one entry, no cause yet, applying from the current SDK releases on.
    let updated = update(reports.path(), &list);
    assert!(
        stdout(&updated).contains(
            "1 added, 0 changed, 0 narrowed to older releases, 0 widened to older releases, 0 removed"
        ),
        "{}",
        stdout(&updated)
    );
    // Not a terminal: the entry is listed, with no cause to suggest (the list has none).
    assert!(stdout(&updated).contains("needs a cause: t/no-media-type\n"), "{}", stdout(&updated));
    let mut file = read(&list);
    assert_eq!(file.expectations.len(), 1);
    let entry = &mut file.expectations[0];
    assert_eq!(entry.case, "t/no-media-type");
    assert_eq!(entry.sdks["kubewarden-policy-sdk"], ">=0.17.3");
    assert_eq!(entry.sdks["github.com/kubewarden/policy-sdk-go"], ">=0.13.1");
    assert_eq!(entry.signature.outcomes["rust"], "ok/image");
    assert_eq!(entry.signature.outcomes["go"], "error");
    entry.causes = vec!["go-mediatype-dispatch".into()];
    file.causes.push(kwconform::expectations::Cause {
        id: "go-mediatype-dispatch".into(),
        title: "Go decides by mediaType only".into(),
        reason: "OciImageManifestResponse.UnmarshalJSON reads the top-level mediaType".into(),
        sdks: vec!["go".into()],
        spec: Default::default(),
        upstream: None,
    });
    write(&list, &file);

    // Expected: the run passes and shows it.
    let expected = run(cases.path(), reports.path());
    assert_eq!(expected.status.code(), Some(0), "{}", stdout(&expected));
    assert!(stdout(&expected).contains("expected divergences: 1 from 1 cause "), "{}", stdout(&expected));
    assert!(stdout(&expected).contains("go-mediatype-dispatch"), "{}", stdout(&expected));

    // Updating again changes nothing and keeps the cause.
    update(reports.path(), &list);
    assert_eq!(read(&list), file);

    // A second case like it gets that cause suggested.
    let second = DIVERGING.replace("t/no-media-type", "t/no-media-type-2");
    std::fs::write(cases.path().join("diverging-2.json"), second).unwrap();
    run(cases.path(), reports.path());
    let updated = update(reports.path(), &list);
    assert!(
        stdout(&updated).contains("needs a cause: t/no-media-type-2 (suggested: go-mediatype-dispatch)"),
        "{}",
        stdout(&updated)
    );
    std::fs::remove_file(cases.path().join("diverging-2.json")).unwrap();
    write(&list, &file);

    // Out of its version range the entry does not apply: unlisted again.
    let mut narrowed = read(&list);
    narrowed.expectations[0].sdks.insert("kubewarden-policy-sdk".into(), "<0.17".into());
    write(&list, &narrowed);
    assert_eq!(run(cases.path(), reports.path()).status.code(), Some(1));
}

#[test]
fn a_stale_or_changed_entry_fails_the_run() {
    let (cases, reports) = (two_cases(), tempfile::tempdir().unwrap());
    let list = cases.path().join("expectations.json");
    run(cases.path(), reports.path());
    update(reports.path(), &list);
    let recorded = read(&list);

    // Stale: an entry for the agreeing case.
    let mut stale = recorded.clone();
    let mut entry = stale.expectations[0].clone();
    entry.case = "t/host-error".into();
    stale.expectations.push(entry);
    write(&list, &stale);
    let output = run(cases.path(), reports.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("STALE        manifest_digest  t/host-error"), "{}", stdout(&output));
    assert!(stdout(&output).contains("stale expectation: now agrees, remove it"));
    // `update` removes it again.
    assert!(stdout(&update(reports.path(), &list)).contains("1 removed"));
    assert_eq!(read(&list), recorded);

    // Changed: the recorded signature no longer matches; both are shown.
    let mut changed = recorded.clone();
    changed.expectations[0].signature.outcomes.insert("go".into(), "ok/image".into());
    write(&list, &changed);
    let output = run(cases.path(), reports.path());
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("CHANGED      oci_manifest  t/no-media-type"), "{text}");
    assert!(text.contains("-    \"go\": \"ok/image\"") && text.contains("+    \"go\": \"error\""), "{text}");
}

/// `check` on the two cases with this expectations list: its exit status and stderr.
fn check_with(list: &str) -> (Option<i32>, String, std::path::PathBuf) {
    let cases = two_cases();
    let path = cases.path().join("expectations.json");
    std::fs::write(&path, list).unwrap();
    let output = kwconform(&args(&["check", "--cases", &cases.path().display().to_string()]));
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned(), path)
}

#[test]
fn entries_must_name_existing_cases_and_listed_causes_and_check_says_where() {
    let (status, stderr, list) = check_with(
        r#"{"expectations": [
  {"case": "t/gone", "sdks": {}, "signature": {"outcomes": {}, "diffs": []}, "causes": []}
]}"#,
    );
    assert_eq!(status, Some(2));
    assert!(
        stderr.contains(&format!("{}:2:4: expectation names case \"t/gone\"", list.display())),
        "{stderr}"
    );

    let (status, stderr, list) = check_with(
        r#"{"causes": [],
 "expectations": [
  {"case": "t/no-media-type", "sdks": {}, "signature": {"outcomes": {}, "diffs": []}, "causes": ["nowhere"]}
]}"#,
    );
    assert_eq!(status, Some(2));
    let located = format!(
        "{}:3:4: case \"t/no-media-type\" points at cause \"nowhere\", which is not listed",
        list.display()
    );
    assert!(stderr.contains(&located), "{stderr}");
}

#[test]
fn check_accepts_the_shipped_corpus() {
    let output = kwconform(&args(&["check"]));
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}

/// The release gate on the real corpus: it passes as shipped, and fails as soon as one
/// expectation is removed.
#[test]
fn the_shipped_corpus_fails_when_an_expectation_is_removed() {
    let project = Project::this_checkout();
    let copy = tempfile::tempdir().unwrap();
    let status = Command::new("cp").arg("-r").arg(project.cases_dir()).arg(copy.path()).status().unwrap();
    assert!(status.success());
    let cases = copy.path().join("cases");
    let reports = tempfile::tempdir().unwrap();
    let as_shipped = run(&cases, reports.path());
    assert_eq!(as_shipped.status.code(), Some(0), "{}", stdout(&as_shipped));

    let list = cases.join("expectations.json");
    let mut file = read(&list);
    let removed = file.expectations.remove(0);
    write(&list, &file);
    let output = run(&cases, reports.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains(&removed.case), "{}", stdout(&output));
}
