//! The `go-wapc` guest: the same Go guest code and SDK, built with the standard Go
//! toolchain as a waPC reactor. Over the whole corpus it must decode exactly what the
//! WASI-CLI Go guest decodes: only the transport differs.

mod common;

use kwconform::case::load_cases;
use kwconform::compare::Verdict;
use kwconform::guest::GuestSpec;
use kwconform::guest_build::Project;
use kwconform::host::{Abi, HostEngine, Limits};
use kwconform::run::Runner;

#[test]
fn go_over_wapc_agrees_with_go_over_wasi_cli_on_every_case() {
    let project = Project::this_checkout();
    let go = common::guest_specs().iter().find(|g| g.name == "go").unwrap().clone();
    let go_wapc = GuestSpec {
        name: "go-wapc".into(),
        path: project.build_go_wapc_guest(&mut std::io::stderr()).expect("the go-wapc guest builds"),
    };
    let engine = HostEngine::new(Limits::default()).unwrap().with_module_cache(project.module_cache_dir());
    let runner = Runner::new(engine, &[go, go_wapc], |_| {}).unwrap();
    let guests = runner.guests();
    assert_eq!(guests[1].abi, Abi::Wapc, "a c-shared Go reactor speaking waPC");
    assert_eq!((guests[0].sdk_version.as_str(), guests[1].sdk_version.as_str()), ("v0.13.1", "v0.13.1"));

    let cases = load_cases(&[project.cases_dir()]).unwrap();
    let results = runner.run(&cases, |_| {});
    let differing: Vec<String> = results
        .results
        .iter()
        .filter(|r| r.comparison.verdict != Verdict::Agree || !r.comparison.notes.is_empty())
        .map(|r| format!("{}: {:?} {:?}", r.case.id, r.comparison.verdict, r.comparison.diffs))
        .collect();
    assert!(differing.is_empty(), "the transports differ on:\n{}", differing.join("\n"));
    assert!(results.results.len() >= 797);
}
