//! The `go-wapc` guest: the same Go guest code and SDK, built with the standard Go
//! toolchain as a waPC reactor. Over the whole corpus it must decode exactly what the
//! WASI-CLI Go guest decodes: only the transport differs. And the waPC guests behave the
//! same on both waPC hosts: kwconform's and the one Kubewarden's host uses.

mod common;

use kwconform::case::load_cases;
use kwconform::compare::Verdict;
use kwconform::guest::GuestSpec;
use kwconform::guest_build::Project;
use kwconform::host::{Abi, Limits, WapcHostFlavour};
use kwconform::run::Runner;

#[test]
fn go_over_wapc_agrees_with_go_over_wasi_cli_on_every_case() {
    let project = Project::this_checkout();
    let go = common::guest_specs().iter().find(|g| g.name == "go").unwrap().clone();
    let go_wapc = GuestSpec {
        name: "go-wapc".into(),
        path: project.build_go_wapc_guest(&mut std::io::stderr()).expect("the go-wapc guest builds"),
    };
    let engine = common::engine(Limits::default());
    let runner = Runner::new(engine, &[go, go_wapc], |_| {}).unwrap();
    let guests = runner.guests();
    assert_eq!(guests[1].abi, Abi::Wapc, "a c-shared Go reactor speaking waPC");
    assert_eq!((guests[0].sdk_version.as_str(), guests[1].sdk_version.as_str()), ("v0.13.1", "v0.13.1"));

    let cases = load_cases(&[project.cases_dir()]).unwrap();
    let results = runner.run_collect(&cases);
    let differing: Vec<String> = results
        .results
        .iter()
        .filter(|r| r.comparison.verdict != Verdict::Agree || !r.comparison.notes.is_empty())
        .map(|r| format!("{}: {:?} {:?}", r.case.id, r.comparison.verdict, r.comparison.diffs))
        .collect();
    assert!(differing.is_empty(), "the transports differ on:\n{}", differing.join("\n"));
    assert!(results.results.len() >= 797);
}

/// Kubewarden's own waPC stack (`wapc::WapcHost` on wasmtime-provider) and kwconform's
/// waPC host give the same results for the real waPC guests on every case.
#[test]
fn both_wapc_hosts_give_identical_results_on_every_case() {
    let project = Project::this_checkout();
    let rust = common::guest_specs().iter().find(|g| g.name == "rust").unwrap().clone();
    let go_wapc = GuestSpec {
        name: "go-wapc".into(),
        path: project.build_go_wapc_guest(&mut std::io::stderr()).expect("the go-wapc guest builds"),
    };
    let cases = load_cases(&[project.cases_dir()]).unwrap();
    let run = |flavour: WapcHostFlavour| {
        let engine = common::engine(Limits::default()).with_wapc_host(flavour);
        let runner = Runner::new(engine, &[rust.clone(), go_wapc.clone()], |_| {}).unwrap();
        assert!(runner.guests().iter().all(|g| g.wapc_host == Some(flavour)));
        runner.run_collect(&cases).results
    };
    let (ours, theirs) = (run(WapcHostFlavour::Kwconform), run(WapcHostFlavour::WasmtimeProvider));
    assert_eq!(ours.len(), cases.len());
    let mut differing = Vec::new();
    for (a, b) in ours.iter().zip(&theirs) {
        let observed = |r: &kwconform::run::CaseResult| {
            let runs: Vec<_> = r
                .runs
                .iter()
                .map(|(name, run)| {
                    (
                        name.clone(),
                        run.outcome.clone(),
                        run.invocation
                            .calls
                            .iter()
                            .map(|c| {
                                (
                                    c.binding.clone(),
                                    c.namespace.clone(),
                                    c.operation.clone(),
                                    c.payload.clone(),
                                    c.answer.clone(),
                                )
                            })
                            .collect::<Vec<_>>(),
                    )
                })
                .collect();
            (r.comparison.verdict, r.comparison.diffs.clone(), runs)
        };
        if observed(a) != observed(b) {
            differing.push(format!(
                "{}:\n  kwconform {:?}\n  wasmtime-provider {:?}",
                a.case.id,
                observed(a),
                observed(b)
            ));
        }
    }
    assert!(differing.is_empty(), "the waPC hosts differ on:\n{}", differing.join("\n"));
}
