//! Malformed and hostile inputs: each gets one clear line (file:line:column where it
//! has a place), exit 2, no panic, nothing read or written outside its folder.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn kwconform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kwconform")).args(args).env("NO_COLOR", "1").output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const CASE: &str = r#"{"id": "ID", "description": "d", "op": "oci_manifest", "image": "a/b:c", "origin": "synthetic", "response": RESPONSE}"#;

fn case(id: &str, response: &str) -> String {
    CASE.replace("ID", id).replace("RESPONSE", response)
}

/// `check` on a folder holding one file: exit 2 and exactly `message` after the location.
fn check_one(name: &str, content: &[u8], expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), content).unwrap();
    let output = kwconform(&["check", "--cases", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{name}: {}", stderr(&output));
    let expected = format!("kwconform: error: {}/{name}{expected}\n", dir.path().display());
    assert_eq!(stderr(&output), expected, "{name}");
}

#[test]
fn malformed_case_files_get_one_precise_line() {
    check_one(
        "bom.json",
        b"\xef\xbb\xbf{}",
        ":1:1: the case file starts with a UTF-8 byte order mark; save it without one",
    );
    check_one("array.json", b"[1, 2]", ":1:1: a case file is one JSON object, not an array");
    let at = |content: &str, key: &str| content.find(&format!("\"{key}\"")).unwrap() + 1;
    let op =
        CASE.replace("\"oci_manifest\"", "3").replace("ID", "t/op").replace("RESPONSE", r#"{"text": "x"}"#);
    let column = at(&op, "op");
    check_one(
        "op.json",
        op.as_bytes(),
        &format!(
            ":1:{column}: op must be one of oci_manifest, manifest_digest, oci_manifest_config, verify_pub_keys, \
             verify_keyless_exact, verify_keyless_prefix, verify_github_actions, verify_certificate, \
             is_certificate_trusted, dns_lookup_host, can_i, get_resource, list_resources_by_namespace, \
             list_resources_all, got 3"
        ),
    );
    let two = case("t/two", r#"{"text": "x", "json": {}}"#);
    let column = at(&two, "response");
    check_one(
        "two.json",
        two.as_bytes(),
        &format!(
            ":1:{column}: response must have exactly one of json, text, base64, file, host_error, got json and text"
        ),
    );
    let unknown = case("t/unknown", r#"{"txt": "x"}"#);
    let column = at(&unknown, "response");
    check_one(
        "unknown.json",
        unknown.as_bytes(),
        &format!(
            ":1:{column}: unknown member \"txt\" of response; use one of json, text, base64, file, host_error"
        ),
    );
    check_one(
        "dots.json",
        case("t/../../etc", r#"{"text": "x"}"#).as_bytes(),
        ":1:2: invalid case id \"t/../../etc\": use '/'-separated segments of letters, digits, '.', '_' and '-', none empty and none starting with '.'",
    );
    check_one(
        "not-utf8.json",
        b"{\"id\": \"\xff\"}",
        ":1:9: the case file is not UTF-8 here: invalid utf-8 sequence of 1 bytes from index 8",
    );
    check_one("syntax.json", b"{\"id\": ", ":1:7: EOF while parsing a value");
}

#[test]
fn a_response_file_stays_a_regular_file_inside_its_case_folder() {
    for (file, why) in [
        ("/dev/zero", "must be a relative path inside the case file's folder (no `..`, no leading `/`)"),
        ("/etc/hostname", "must be a relative path inside the case file's folder (no `..`, no leading `/`)"),
        (
            "../outside.json",
            "must be a relative path inside the case file's folder (no `..`, no leading `/`)",
        ),
    ] {
        let content = case("t/file", &format!(r#"{{"file": "{file}"}}"#));
        let column = content.find("\"response\"").unwrap() + 1;
        check_one("file.json", content.as_bytes(), &format!(":1:{column}: response.file {file:?} {why}"));
    }
    // A link that leads out, a FIFO, a file too large: each said so, nothing read.
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/etc", dir.path().join("bodies")).unwrap();
    std::fs::write(dir.path().join("c.json"), case("t/link", r#"{"file": "bodies/hostname"}"#)).unwrap();
    let output = kwconform(&["check", "--cases", dir.path().to_str().unwrap()]);
    assert!(stderr(&output).contains("leads outside the case file's folder"), "{}", stderr(&output));
    let dir = tempfile::tempdir().unwrap();
    assert!(Command::new("mkfifo").arg(dir.path().join("fifo")).status().unwrap().success());
    std::fs::write(dir.path().join("c.json"), case("t/fifo", r#"{"file": "fifo"}"#)).unwrap();
    let output = kwconform(&["check", "--cases", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is not a regular file (a symbolic link, FIFO or device)"),
        "{}",
        stderr(&output)
    );
    let dir = tempfile::tempdir().unwrap();
    let big = std::fs::File::create(dir.path().join("big")).unwrap();
    big.set_len(kwconform::case::MAX_FILE_BYTES + 1).unwrap();
    std::fs::write(dir.path().join("c.json"), case("t/big", r#"{"file": "big"}"#)).unwrap();
    let output = kwconform(&["check", "--cases", dir.path().to_str().unwrap()]);
    assert!(
        stderr(&output)
            .contains(&format!("has {} bytes, more than the", kwconform::case::MAX_FILE_BYTES + 1)),
        "{}",
        stderr(&output)
    );
}

#[test]
fn links_and_fifos_among_case_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/etc/hostname", dir.path().join("link.json")).unwrap();
    assert!(Command::new("mkfifo").arg(dir.path().join("fifo.JSON")).status().unwrap().success());
    let output = kwconform(&["check", "--cases", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    for name in ["fifo.JSON", "link.json"] {
        assert!(
            text.contains(&format!("{}: not a regular file", dir.path().join(name).display())),
            "{name}: {text}"
        );
    }
}

#[test]
fn kwctl_sessions_with_any_file_name_give_valid_ids() {
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("my session+ü.yml");
    std::fs::write(
        &session,
        "- request: '!OciManifest {image: a/b:c}'\n  response: {type: Success, payload: '{}'}\n",
    )
    .unwrap();
    let out = dir.path().join("cases");
    let output = kwconform(&["import-kwctl", session.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        out.join("oci_manifest/kwctl/my-session--.yml/0.json").is_file()
            || out.join("oci_manifest/kwctl/my-session--/0.json").is_file()
    );
    let check = kwconform(&["check", "--cases", out.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let dots = dir.path().join("...yml");
    std::fs::write(
        &dots,
        "- request: '!OciManifest {image: a/b:c}'\n  response: {type: Success, payload: '{}'}\n",
    )
    .unwrap();
    let output = kwconform(&["import-kwctl", dots.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(kwconform(&["check", "--cases", out.to_str().unwrap()]).status.code(), Some(0));
    assert!(out.join("oci_manifest/kwctl/unnamed/0.json").is_file());
    for entry in walk(&out) {
        assert!(entry.starts_with(&out), "{} is outside --out", entry.display());
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

#[test]
fn command_line_values_are_checked_before_any_work() {
    for timeout in ["NaN", "inf", "1e30", "-1", "0"] {
        let output = kwconform(&["run", &format!("--timeout={timeout}")]);
        assert_eq!(output.status.code(), Some(2), "{timeout}");
        assert!(
            stderr(&output).contains("expected a number of seconds above 0 and at most 3600"),
            "{}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("panicked"));
    }
    let file = tempfile::NamedTempFile::new().unwrap();
    let output =
        kwconform(&["run", "--report", file.path().to_str().unwrap(), "--only", "manifest_digest/*"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!("kwconform: error: --report {} is not a folder\n", file.path().display())
    );
    let text_module = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(text_module.path(), "(module)").unwrap();
    let guest = format!("a={}", text_module.path().display());
    let output = kwconform(&[
        "run",
        "--guest",
        &guest,
        "--guest",
        "b=/nonexistent.wasm",
        "--only",
        "manifest_digest/*",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("is not a WebAssembly module: it is text"), "{}", stderr(&output));
}

#[test]
fn repro_exports_only_into_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mine.txt"), "keep").unwrap();
    let output =
        kwconform(&["repro", "manifest_digest/shapes/sha256", "--export", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is not empty; export a bundle into a new or empty folder"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(dir.path().join("mine.txt")).unwrap(), "keep");
}
