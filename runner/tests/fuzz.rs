//! The fuzzer end to end, deterministically: a fixed seed finds known causes of
//! divergence, keys them by cause (not by path), shrinks them, and saves cases that
//! `run` replays.

mod common;

use std::sync::atomic::AtomicBool;

use kwconform::case::{self, Op};
use kwconform::fuzz::{Budget, Covered, Evaluation, FuzzOptions, evaluate, fuzz, fuzz_requests};

#[test]
fn a_fixed_seed_finds_causes_shrinks_and_saves_them() {
    let out = tempfile::tempdir().unwrap();
    let options = FuzzOptions {
        ops: vec![Op::OciManifest],
        budget: Budget::Inputs(300),
        seed: 1,
        out: out.path().to_path_buf(),
        command: "cargo test --test fuzz".into(),
        max_shrink_steps: 300,
    };
    let runner = common::runner();
    let summary = fuzz(runner, &options, &Covered::default(), &AtomicBool::new(false), |_| {}).unwrap();
    assert_eq!(summary.inputs, 300);

    // Go rejects a manifest without a top-level mediaType, Rust decodes it by shape: a
    // generated document without one shows it, and so does one whose mediaType a
    // mutation removed. Two causes at the same path are two classes.
    let symptom = "go error, rust ok/image at /outcome";
    let same_symptom: Vec<_> = summary.classes.iter().filter(|c| c.symptom == symptom).collect();
    let causes: std::collections::BTreeSet<_> = same_symptom.iter().map(|c| c.cause.label()).collect();
    assert!(
        causes.len() >= 2,
        "several causes show {symptom}: {:#?}",
        summary.classes.iter().map(|c| (&c.summary, &c.symptom)).collect::<Vec<_>>()
    );
    let class = same_symptom.iter().find(|c| c.case.is_some()).expect("a new class is saved");
    let saved = class.saved_bytes.expect("a new class is saved");
    assert!(saved < class.first_bytes, "shrunk from {} to {saved} bytes", class.first_bytes);
    // One cause seen at many paths is one class.
    assert!(summary.classes.iter().any(|c| c.symptoms > 1), "some cause shows at several paths");

    // The saved file is a valid case, and replaying it shows the same divergence.
    let path = class.path.as_ref().unwrap();
    let replayed = case::load_case_file(path).unwrap();
    assert_eq!(replayed.id, *class.case.as_ref().unwrap());
    let bytes = match &replayed.response {
        case::HostResponse::Success(b) => b.clone(),
        other => panic!("{other:?}"),
    };
    match evaluate(runner, Op::OciManifest, &bytes) {
        Evaluation::Differ(s) => assert_eq!(s.summary(), class.symptom),
        other => panic!("the saved case no longer diverges: {other:?}"),
    }
    // Shrinking kept the spec verdict's standing of the first input.
    let standing = kwconform::spec::judge(Op::OciManifest, &case::HostResponse::Success(bytes.clone()));
    assert_eq!(standing.map(|v| v.standing), class.spec);
    let result = runner.run_case(&replayed);
    assert!(matches!(result.comparison.expectation, kwconform::compare::ExpectationStatus::Met));

    // The same seed gives the same campaign; a class saved once is not saved again.
    let again = fuzz(runner, &options, &Covered::default(), &AtomicBool::new(false), |_| {}).unwrap();
    let ids = |s: &kwconform::fuzz::FuzzSummary| {
        s.classes.iter().map(|c| (c.id.clone(), c.hits)).collect::<Vec<_>>()
    };
    assert_eq!(ids(&again), ids(&summary));
    assert!(again.classes.iter().all(|c| c.case.is_none() && c.known), "nothing is saved twice");
}

#[test]
fn known_classes_are_counted_not_saved() {
    let out = tempfile::tempdir().unwrap();
    let options = FuzzOptions {
        ops: vec![Op::ManifestDigest],
        budget: Budget::Inputs(60),
        seed: 3,
        out: out.path().to_path_buf(),
        command: "cargo test --test fuzz".into(),
        max_shrink_steps: 100,
    };
    let runner = common::runner();
    let first = fuzz(runner, &options, &Covered::default(), &AtomicBool::new(false), |_| {}).unwrap();
    let mut known = Covered::default();
    for id in first.classes.iter().map(|c| c.id.clone()) {
        known.add_id(id);
    }
    let fresh = tempfile::tempdir().unwrap();
    let options = FuzzOptions { out: fresh.path().to_path_buf(), ..options };
    let second = fuzz(runner, &options, &known, &AtomicBool::new(false), |_| {}).unwrap();
    assert!(second.classes.iter().all(|c| c.known && c.case.is_none()));
    assert_eq!(std::fs::read_dir(fresh.path()).unwrap().count(), 0);
}

/// A waPC guest that describes itself like an SDK guest and then never returns from an
/// operation: every input it sees is stopped by the deadline.
fn looping_guest(dir: &std::path::Path) -> kwconform::guest::GuestSpec {
    let describe =
        r#"{"protocol":1,"sdk":"example.com/looping","sdk_version":"1.0.0","ops":["oci_manifest"]}"#;
    let wat = format!(
        r#"(module
          (import "wapc" "__guest_response" (func $response (param i32 i32)))
          (memory (export "memory") 1)
          (data (i32.const 1024) "{}")
          (func (export "__guest_call") (param $op_len i32) (param $len i32) (result i32)
            (if (i32.eq (local.get $op_len) (i32.const 8))
              (then (call $response (i32.const 1024) (i32.const {})) (return (i32.const 1))))
            (loop $forever (br $forever))
            (i32.const 0)))"#,
        describe.replace('"', "\\\""),
        describe.len()
    );
    let path = dir.join("looping.wasm");
    std::fs::write(&path, wat::parse_str(wat).unwrap()).unwrap();
    kwconform::guest::GuestSpec { name: "looping".into(), path }
}

#[test]
fn inputs_a_runner_limit_stopped_are_counted_not_taken_for_agreement() {
    let dir = tempfile::tempdir().unwrap();
    let limits =
        kwconform::host::Limits { timeout: std::time::Duration::from_millis(50), ..Default::default() };
    let engine = common::engine(limits);
    let rust = common::guest_specs()[0].clone();
    let runner = kwconform::run::Runner::new(engine, &[rust, looping_guest(dir.path())], |_| {}).unwrap();
    let options = FuzzOptions {
        ops: vec![Op::OciManifest],
        budget: Budget::Inputs(3),
        seed: 1,
        out: dir.path().join("out"),
        command: "cargo test --test fuzz".into(),
        max_shrink_steps: 10,
    };
    let summary = fuzz(&runner, &options, &Covered::default(), &AtomicBool::new(false), |_| {}).unwrap();
    assert_eq!(summary.inconclusive.get("timeout"), Some(&3), "{:?}", summary.inconclusive);
    assert_eq!(summary.by_op["oci_manifest"].inconclusive, 3);
    // A runner limit is a class too: reported, never taken for agreement, never saved.
    assert!(!summary.classes.is_empty());
    for class in &summary.classes {
        assert!(class.limit && class.case.is_none(), "{class:?}");
        assert!(class.summary.contains("looping engine-error/timeout"), "{}", class.summary);
    }
    assert!(!dir.path().join("out").exists(), "nothing saved");
}

/// Coverage feedback on the real guests: instrumented, they compute what they did (the
/// same classes as the plain guests on the same inputs), report the decoding code they
/// ran, and a campaign keeps inputs that ran new code and derives more from them, the
/// same way for the same seed.
#[test]
fn coverage_feedback_on_the_real_guests_keeps_and_derives_inputs_deterministically() {
    let dir = tempfile::tempdir().unwrap();
    let instrumented: Vec<kwconform::guest::GuestSpec> = common::guest_specs()
        .iter()
        .map(|spec| {
            let module = kwconform::fuzz::instrument(
                &std::fs::read(&spec.path).unwrap(),
                &kwconform::fuzz::DECODING_CODE,
            )
            .unwrap();
            assert!(module.functions > 100 && module.sites > 1000, "{}: {} sites", spec.name, module.sites);
            let path = dir.path().join(format!("{}.wasm", spec.name));
            std::fs::write(&path, &module.bytes).unwrap();
            kwconform::guest::GuestSpec { name: spec.name.clone(), path }
        })
        .collect();
    let runner = kwconform::run::Runner::new(
        common::engine(kwconform::host::Limits::default()),
        &instrumented,
        |_| {},
    )
    .unwrap();

    // The same answers as the plain guests.
    for op in Op::ALL {
        let case =
            common::case("coverage/same", op, r#"{"schemaVersion":2,"MediaType":"x","digest":"sha256:00"}"#);
        let (plain, marked) = (common::runner().run_case(&case), runner.run_case(&case));
        assert_eq!(common::verdict_and_paths(&plain), common::verdict_and_paths(&marked), "{op}");
    }

    let campaign = |out: &std::path::Path| {
        let options = FuzzOptions {
            ops: vec![Op::OciManifest],
            budget: Budget::Inputs(768),
            seed: 5,
            out: out.to_path_buf(),
            command: "cargo test --test fuzz".into(),
            max_shrink_steps: 20,
        };
        fuzz(&runner, &options, &Covered::default(), &AtomicBool::new(false), |_| {}).unwrap()
    };
    let first = campaign(&dir.path().join("a"));
    let feedback = first.coverage.as_ref().expect("instrumented guests report coverage");
    assert!(feedback.sites["rust"] > 100 && feedback.sites["go"] > 100, "{feedback:?}");
    assert!(feedback.kept > 0 && feedback.derived > 0, "{feedback:?}");
    let again = campaign(&dir.path().join("b"));
    let classes = |s: &kwconform::fuzz::FuzzSummary| {
        s.classes.iter().map(|c| (c.id.clone(), c.hits)).collect::<Vec<_>>()
    };
    assert_eq!(classes(&again), classes(&first));
    assert_eq!(again.coverage.as_ref().unwrap().kept, feedback.kept);
}

#[test]
fn request_fuzzing_finds_a_list_go_sends_as_null_and_shrinks_it_to_an_absent_input() {
    let out = tempfile::tempdir().unwrap();
    let runner = common::runner();
    let campaign = |out: &std::path::Path, known: &Covered| {
        let options = FuzzOptions {
            ops: vec![Op::VerifyPubKeys, Op::DnsLookupHost],
            budget: Budget::Inputs(200),
            seed: 1,
            out: out.to_path_buf(),
            command: "cargo test --test fuzz".into(),
            max_shrink_steps: 300,
        };
        fuzz_requests(runner, &options, known, &AtomicBool::new(false), |_| {}).unwrap()
    };
    let summary = campaign(out.path(), &Covered::default());
    assert!(summary.inputs >= 200);
    let finding = summary
        .findings
        .iter()
        .find(|f| f.op == Op::VerifyPubKeys && f.symptom == "go error, rust ok at /calls/*/request, /outcome")
        .unwrap_or_else(|| panic!("{:#?}", summary.findings));

    // Shrunk to the image alone: an absent key list is an empty list to both guests, a
    // nil slice in Go, which encoding/json sends as null and the host's Vec refuses.
    let replayed = case::load_case_file(finding.path.as_ref().expect("saved")).unwrap();
    assert_eq!(replayed.id, *finding.case.as_ref().unwrap());
    assert_eq!(replayed.input.keys().collect::<Vec<_>>(), ["image"]);
    let result = runner.run_case(&replayed);
    assert_eq!(common::verdict_and_paths(&result).1, ["/calls/0/request", "/outcome"]);

    // Symptoms saved once are counted, not saved, by the next campaign.
    let mut known = Covered::default();
    for f in &summary.findings {
        known.add_id(f.id.clone());
    }
    let fresh = tempfile::tempdir().unwrap();
    let second = campaign(fresh.path(), &known);
    assert!(second.findings.iter().all(|f| f.known && f.case.is_none()), "{:#?}", second.findings);
    assert_eq!(std::fs::read_dir(fresh.path()).unwrap().count(), 0);
}
