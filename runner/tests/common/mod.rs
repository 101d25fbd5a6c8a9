//! Shared by the integration tests: the real guests, built once per test binary, and
//! a helper that runs one case through every guest and names the guest that failed.

#![allow(dead_code, reason = "each test binary uses its own part of this module")]

use std::sync::OnceLock;

use kwconform::case::{Case, HostResponse, Level, Op, Origin, OutcomeClass};
use kwconform::compare::Verdict;
use kwconform::guest::GuestSpec;
use kwconform::guest_build::Project;
use kwconform::host::{HostEngine, Limits};
use kwconform::run::{CaseResult, Runner};

/// The default guests, built from this checkout with the real toolchains.
pub fn guest_specs() -> &'static [GuestSpec] {
    static SPECS: OnceLock<Vec<GuestSpec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        Project::this_checkout().build_default_guests(&mut std::io::stderr()).expect("the guests build")
    })
}

/// An engine with `limits` that keeps compiled modules in the project's cache, as
/// `kwconform run` does: compiling the Rust guest takes seconds, the Go guest more.
pub fn engine(limits: Limits) -> HostEngine {
    HostEngine::new(limits)
        .expect("the engine starts")
        .with_module_cache(Project::this_checkout().module_cache_dir())
}

/// One runner per test binary.
pub fn runner() -> &'static Runner {
    static RUNNER: OnceLock<Runner> = OnceLock::new();
    RUNNER.get_or_init(|| {
        Runner::new(engine(Limits::default()), guest_specs(), |_| {}).expect("the guests load")
    })
}

/// A case of `op` answered with `response`: for the OCI operations an image reference,
/// for the others the fuzzer's typical inputs.
pub fn case(id: &str, op: Op, response: &str) -> Case {
    Case {
        id: id.into(),
        description: String::new(),
        op,
        input: match op.is_oci() {
            true => Case::image_input("ghcr.io/kubewarden/tests/policy-server:v1.13.0"),
            false => kwconform::fuzz::input(op),
        },
        response: HostResponse::Success(response.as_bytes().to_vec()),
        origin: Origin::Synthetic,
        provenance: None,
        spec: None,
        tags: vec![],
        level: Level::Required,
        expect: None,
        source: "in-memory".into(),
    }
}

/// What one guest is expected to have done: outcome class and kind.
pub struct Want(pub &'static str, pub OutcomeClass, pub Option<&'static str>);

/// Runs `case` through every guest and checks each guest's outcome, naming the guest
/// and showing its result when one differs.
pub fn run_expecting(case: &Case, wants: &[Want]) -> CaseResult {
    let result = runner().run_case(case);
    for Want(name, class, kind) in wants {
        let (_, run) =
            result.runs.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no guest {name}"));
        assert_eq!(
            (run.outcome.class(), run.outcome.kind()),
            (*class, *kind),
            "case {}: guest {name} ({}) did not do what was expected: {:?}",
            case.id,
            run.invocation.calls.first().map(|c| c.operation.as_str()).unwrap_or("no host call"),
            run.outcome
        );
    }
    result
}

/// The paths where the guests differ, and the verdict.
pub fn verdict_and_paths(result: &CaseResult) -> (Verdict, Vec<String>) {
    (result.comparison.verdict, result.comparison.diffs.iter().map(|d| d.path.clone()).collect())
}

/// A writable copy of a source tree (the cargo registry and Go module cache are read-only).
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    use std::process::Command;
    assert!(Command::new("cp").arg("-r").arg(from).arg(to).status().unwrap().success());
    assert!(Command::new("chmod").args(["-R", "u+w"]).arg(to).status().unwrap().success());
}

/// A crate's source as cargo unpacked it (`name` is `<crate>-<version>`).
pub fn registry_source(name: &str) -> std::path::PathBuf {
    use std::path::PathBuf;
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    std::fs::read_dir(home.join("registry").join("src"))
        .unwrap()
        .map(|index| index.unwrap().path().join(name))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| panic!("{name} is not in the cargo registry"))
}

/// A Go module's source in the module cache (`module@version`).
pub fn go_module_source(module_at_version: &str) -> std::path::PathBuf {
    let output = std::process::Command::new("go").args(["env", "GOMODCACHE"]).output().unwrap();
    std::path::PathBuf::from(String::from_utf8(output.stdout).unwrap().trim()).join(module_at_version)
}
