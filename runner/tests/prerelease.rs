//! The README's "Before an SDK release" steps, run as written (the `sh prerelease`
//! block), against local checkouts of both pinned SDKs: untouched, they pass; with a
//! changed decoder, the run fails naming the cases that changed, `expectations update`
//! records the change and the next run passes.
//!
//! Every step gets `--cases` (and `--report`, `--file`) pointing at a scratch copy of
//! the corpus and its reports, so the repository's own list is never touched.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kwconform::guest_build::Project;

/// The commands of the README's pre-release block, `cargo run -- ` stripped.
fn readme_steps() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(Project::this_checkout().root.join("README.md")).unwrap();
    let block = readme.split("```sh prerelease\n").nth(1).expect("the README has a `sh prerelease` block");
    let block = &block[..block.find("```").unwrap()];
    let steps: Vec<Vec<String>> = block
        .lines()
        .filter_map(|l| l.trim().strip_prefix("cargo run -- "))
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    assert_eq!(steps.len(), 3, "{block}");
    steps
}

/// A scratch copy of the corpus and a report folder.
struct Scratch {
    _dir: tempfile::TempDir,
    cases: PathBuf,
    reports: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let cases = dir.path().join("cases");
        common::copy_tree(&Project::this_checkout().cases_dir(), &cases);
        let reports = dir.path().join("reports");
        Scratch { _dir: dir, cases, reports }
    }

    /// Runs one README step with the checkout in place of the README's example path.
    fn step(&self, step: &[String], flag: &str, checkout: &Path) -> Output {
        let mut args: Vec<String> = step
            .iter()
            .map(|a| if a == "../policy-sdk-rust" { checkout.display().to_string() } else { a.clone() })
            .map(|a| if a == "--rust-sdk" { flag.to_string() } else { a })
            .collect();
        let scratch = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        match step[0].as_str() {
            "run" => args.extend(scratch(&[
                "--cases",
                self.cases.to_str().unwrap(),
                "--report",
                self.reports.to_str().unwrap(),
            ])),
            "expectations" => args.extend(scratch(&[
                "--report",
                self.reports.to_str().unwrap(),
                "--file",
                self.cases.join("expectations.json").to_str().unwrap(),
            ])),
            other => panic!("unexpected step {other}"),
        }
        Command::new(env!("CARGO_BIN_EXE_kwconform")).args(&args).env("NO_COLOR", "1").output().unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// The README's steps on an untouched checkout, then on a copy with `edit` applied to
/// `file`; `changed` is a case the edit must change.
fn prerelease(flag: &str, pristine: &Path, file: &str, edit: (&str, &str), changed: &str, sdk_line: &str) {
    let steps = readme_steps();
    let dir = tempfile::tempdir().unwrap();

    // Untouched: the first step passes, and the guest is named by SDK and semver,
    // with its provenance beside it.
    let untouched = dir.path().join("untouched");
    common::copy_tree(pristine, &untouched);
    let scratch = Scratch::new();
    let first = scratch.step(&steps[0], flag, &untouched);
    assert_eq!(first.status.code(), Some(0), "{}", stdout(&first));
    let text = stdout(&first);
    assert!(
        text.contains(&format!("{sdk_line} (checkout {}", untouched.canonicalize().unwrap().display())),
        "{text}"
    );
    assert!(text.contains("content sha256 "), "{text}");

    // A decoder change: the run fails and names what changed.
    let changed_copy = dir.path().join("changed");
    common::copy_tree(pristine, &changed_copy);
    let path = changed_copy.join(file);
    let source = std::fs::read_to_string(&path).unwrap();
    assert!(source.contains(edit.0), "{file} no longer has {:?}", edit.0);
    std::fs::write(&path, source.replacen(edit.0, edit.1, 1)).unwrap();
    let scratch = Scratch::new();
    let failed = scratch.step(&steps[0], flag, &changed_copy);
    assert_eq!(failed.status.code(), Some(1), "{}", stdout(&failed));
    assert!(stdout(&failed).contains(changed), "{}", stdout(&failed));

    // Recorded, it passes; the list loads again.
    let update = scratch.step(&steps[1], flag, &changed_copy);
    assert_eq!(update.status.code(), Some(0), "{}", stdout(&update));
    assert!(stdout(&update).contains("needs a cause"), "{}", stdout(&update));
    let again = scratch.step(&steps[2], flag, &changed_copy);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
}

#[test]
fn the_rust_sdk_pre_release_workflow() {
    common::guest_specs(); // puts the pinned SDK's sources in the cargo registry
    prerelease(
        "--rust-sdk",
        &common::registry_source("kubewarden-policy-sdk-0.17.3"),
        "src/host_capabilities/oci.rs",
        (
            "pub struct ManifestDigestResponse {\n",
            "pub struct ManifestDigestResponse {\n    #[serde(rename = \"Digest\")]\n",
        ),
        "manifest_digest/shapes/sha256",
        "kubewarden-policy-sdk 0.17.3",
    );
}

#[test]
fn the_go_sdk_pre_release_workflow() {
    common::guest_specs(); // puts the pinned SDK's sources in the Go module cache
    prerelease(
        "--go-sdk",
        &common::go_module_source("github.com/kubewarden/policy-sdk-go@v0.13.1"),
        "pkg/capabilities/oci/manifest_digest/types.go",
        ("`json:\"digest\"`", "`json:\"sha\"`"),
        "manifest_digest/shapes/sha256",
        "github.com/kubewarden/policy-sdk-go v0.13.1",
    );
}
