//! The real SDK guests under the real host: concrete outcomes for the disagreements
//! the brief lists, the shipped corpus, and a folder of real registry documents.

mod common;

use common::{Want, case, run_expecting, runner, verdict_and_paths};
use kwconform::case::{Case, HostResponse, Input, Op, OutcomeClass::*};
use kwconform::compare::Verdict;
use kwconform::guest_build::Project;
use kwconform::host::{Abi, Answer, HostEngine, HostRequest, Limits};
use kwconform::run::Runner;
use serde_json::json;

const DIGEST: &str = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";

fn descriptor(media_type: &str) -> serde_json::Value {
    json!({"mediaType": media_type, "digest": DIGEST, "size": 1024})
}

fn image_manifest(media_type: Option<&str>) -> serde_json::Value {
    let mut m = json!({
        "schemaVersion": 2,
        "config": descriptor("application/vnd.oci.image.config.v1+json"),
        "layers": [descriptor("application/vnd.oci.image.layer.v1.tar+gzip")],
    });
    if let Some(mt) = media_type {
        m["mediaType"] = json!(mt);
    }
    m
}

fn engine() -> HostEngine {
    common::engine(Limits::default())
}

#[test]
fn the_guests_are_the_real_modules_over_their_real_abis() {
    let guests = runner().guests();
    let rust = guests.iter().find(|g| g.name == "rust").unwrap();
    let go = guests.iter().find(|g| g.name == "go").unwrap();
    assert_eq!(
        (rust.abi, rust.sdk.as_str(), rust.sdk_version.as_str()),
        (Abi::Wapc, "kubewarden-policy-sdk", "0.17.3")
    );
    assert_eq!(
        (go.abi, go.sdk.as_str(), go.sdk_version.as_str()),
        (Abi::WasiCli, "github.com/kubewarden/policy-sdk-go", "v0.13.1")
    );
}

#[test]
fn both_sdks_agree_on_a_plain_oci_image_manifest() {
    let doc = image_manifest(Some("application/vnd.oci.image.manifest.v1+json"));
    let c = case("agree", Op::OciManifest, &doc.to_string());
    let result = run_expecting(&c, &[Want("rust", Ok, Some("image")), Want("go", Ok, Some("image"))]);
    assert_eq!(verdict_and_paths(&result), (Verdict::Agree, vec![]));
    // Each SDK sent exactly one host call, for the case's operation, with the image.
    for (name, run) in &result.runs {
        let calls = &run.invocation.calls;
        assert_eq!(calls.len(), 1, "{name}");
        assert_eq!(
            (calls[0].binding.as_str(), calls[0].namespace.as_str(), calls[0].operation.as_str()),
            ("kubewarden", "oci", "v1/oci_manifest"),
            "{name}"
        );
        assert_eq!(calls[0].payload, br#""ghcr.io/kubewarden/tests/policy-server:v1.13.0""#, "{name}");
    }
}

#[test]
fn a_manifest_without_media_type_decodes_in_rust_and_fails_in_go() {
    let c = case("no-media-type", Op::OciManifest, &image_manifest(None).to_string());
    let result = run_expecting(&c, &[Want("rust", Ok, Some("image")), Want("go", Error, None)]);
    assert_eq!(verdict_and_paths(&result), (Verdict::Diverge, vec!["/outcome".to_string()]));
}

#[test]
fn a_media_type_that_contradicts_the_shape_splits_the_kind() {
    // An index body labelled as an image manifest: Rust follows the shape, Go the label.
    let doc = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "manifests": [descriptor("application/vnd.oci.image.manifest.v1+json")],
    });
    let result = run_expecting(
        &case("contradiction", Op::OciManifest, &doc.to_string()),
        &[Want("rust", Ok, Some("index")), Want("go", Ok, Some("image"))],
    );
    assert_eq!(verdict_and_paths(&result), (Verdict::Diverge, vec!["/kind".to_string()]));
}

#[test]
fn windows_os_version_is_dropped_by_rust_and_kept_by_go() {
    let mut entry = descriptor("application/vnd.oci.image.manifest.v1+json");
    entry["platform"] = json!({"architecture": "amd64", "os": "windows", "os.version": "10.0.17763.1879", "os.features": ["win32k"]});
    let doc = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [entry]});
    let result = run_expecting(
        &case("windows", Op::OciManifest, &doc.to_string()),
        &[Want("rust", Ok, Some("index")), Want("go", Ok, Some("index"))],
    );
    let (verdict, paths) = verdict_and_paths(&result);
    assert_eq!(verdict, Verdict::Diverge);
    assert_eq!(paths, ["/view/manifests/0/platform/os.features", "/view/manifests/0/platform/os.version"]);
    let diff = &result.comparison.diffs[1];
    assert_eq!(diff.values["rust"], None);
    assert_eq!(diff.values["go"], Some(json!("10.0.17763.1879")));
}

#[test]
fn docker_platform_features_exist_only_in_rust() {
    let mut entry = descriptor("application/vnd.docker.distribution.manifest.v2+json");
    entry["platform"] = json!({"architecture": "amd64", "os": "linux", "features": ["sse4"]});
    let doc = json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json", "manifests": [entry]});
    let result = run_expecting(
        &case("features", Op::OciManifest, &doc.to_string()),
        &[Want("rust", Ok, Some("index")), Want("go", Ok, Some("index"))],
    );
    assert_eq!(verdict_and_paths(&result).1, ["/view/manifests/0/platform/features"]);
    assert_eq!(result.comparison.diffs[0].values["rust"], Some(json!(["sse4"])));
}

#[test]
fn an_empty_image_config_fails_in_rust_and_decodes_in_go() {
    let doc = json!({
        "manifest": image_manifest(Some("application/vnd.oci.image.manifest.v1+json")),
        "digest": DIGEST,
        "config": {},
    });
    let result = run_expecting(
        &case("config-empty", Op::OciManifestConfig, &doc.to_string()),
        &[Want("rust", Error, None), Want("go", Ok, None)],
    );
    assert_eq!(verdict_and_paths(&result), (Verdict::Diverge, vec!["/outcome".to_string()]));
}

#[test]
fn malformed_descriptor_digests_fail_in_rust_only() {
    let upper_hex = "sha256:6C3C624B58DBBCD3C0DD82B4C53F04194D1247C6EEBDAAB7C610CF7D66709B3B";
    for digest in
        ["sha256:abc", upper_hex, "SHA256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"]
    {
        let mut doc = image_manifest(Some("application/vnd.oci.image.manifest.v1+json"));
        doc["config"]["digest"] = json!(digest);
        run_expecting(
            &case(digest, Op::OciManifest, &doc.to_string()),
            &[Want("rust", Error, None), Want("go", Ok, Some("image"))],
        );
    }
    // oci-spec checks only the algorithms it knows: an unknown one passes in both.
    let mut doc = image_manifest(Some("application/vnd.oci.image.manifest.v1+json"));
    doc["config"]["digest"] = json!("md5:0123456789abcdef0123456789abcdef");
    let c = case("md5", Op::OciManifest, &doc.to_string());
    run_expecting(&c, &[Want("rust", Ok, Some("image")), Want("go", Ok, Some("image"))]);
}

#[test]
fn sizes_at_the_edges_of_i64_and_u64_split_the_sdks() {
    let with_size = |size: &str| {
        let doc = image_manifest(Some("application/vnd.oci.image.manifest.v1+json")).to_string();
        doc.replacen("\"size\":1024", &format!("\"size\":{size}"), 1)
    };
    // Negative: Go's int64 takes it, oci-spec's u64 does not.
    run_expecting(
        &case("size-negative", Op::OciManifest, &with_size("-1")),
        &[Want("rust", Error, None), Want("go", Ok, Some("image"))],
    );
    // 2^63: beyond Go's int64, within Rust's u64; the view keeps it exact.
    let result = run_expecting(
        &case("size-2^63", Op::OciManifest, &with_size("9223372036854775808")),
        &[Want("rust", Ok, Some("image")), Want("go", Error, None)],
    );
    let (_, rust) = &result.runs[0];
    match &rust.outcome {
        kwconform::guest::Outcome::Ok { view, .. } => {
            assert_eq!(view["config"]["size"], json!(9223372036854775808_u64))
        }
        other => panic!("{other:?}"),
    }
    // 2^63 - 1 fits both, exactly.
    let result = run_expecting(
        &case("size-max", Op::OciManifest, &with_size("9223372036854775807")),
        &[Want("rust", Ok, Some("image")), Want("go", Ok, Some("image"))],
    );
    assert_eq!(result.comparison.verdict, Verdict::Agree);
}

#[test]
fn a_null_required_field_is_an_error_in_rust_and_a_zero_value_in_go() {
    let mut doc = image_manifest(Some("application/vnd.oci.image.manifest.v1+json"));
    doc["layers"] = serde_json::Value::Null;
    let result = run_expecting(
        &case("null-layers", Op::OciManifest, &doc.to_string()),
        &[Want("rust", Error, None), Want("go", Ok, Some("image"))],
    );
    assert_eq!(verdict_and_paths(&result).1, ["/outcome"]);
}

#[test]
fn host_errors_reach_both_sdks_as_errors_for_every_op() {
    for op in Op::ALL {
        let mut c = case("host-error", op, "");
        c.response = HostResponse::Error("manifest unknown".into());
        let result = run_expecting(&c, &[Want("rust", Error, None), Want("go", Error, None)]);
        for (name, run) in &result.runs {
            let kwconform::guest::Outcome::Error { message } = &run.outcome else { unreachable!() };
            if op == Op::CanI && name == "go" {
                // The host refuses every Go can_i request before it answers
                // (expectations: go-can-i-resource-attributes-key).
                assert!(message.contains("missing field `resource_attributes`"), "{message}");
                continue;
            }
            // The host wraps the callback's message once, as Kubewarden's host does.
            assert!(message.contains("Callback evaluation failure: manifest unknown"), "{name}: {message}");
        }
        if op == Op::CanI {
            assert_eq!(verdict_and_paths(&result).1, ["/calls/0/request"]);
        } else {
            assert_eq!(result.comparison.verdict, Verdict::Agree, "{op}");
        }
    }
}

#[test]
fn request_escaping_differences_are_notes_not_divergences() {
    let mut c = case("escaping", Op::ManifestDigest, &json!({"digest": DIGEST}).to_string());
    c.input = Case::image_input("registry.example/a<b>&c:v1");
    let result = run_expecting(&c, &[Want("rust", Ok, None), Want("go", Ok, None)]);
    assert_eq!(result.comparison.verdict, Verdict::Agree);
    assert_eq!(result.comparison.notes.len(), 1);
    let note = &result.comparison.notes[0];
    assert_eq!(note.path, "/calls/0/payload");
    assert_eq!(note.values["go"], Some(json!("\"registry.example/a\\u003cb\\u003e\\u0026c:v1\"")));
    assert_eq!(note.values["rust"], Some(json!("\"registry.example/a<b>&c:v1\"")));
}

#[test]
fn invalid_utf8_and_non_json_responses_are_sdk_errors_not_crashes() {
    let mut c = case("binary", Op::OciManifest, "");
    c.response = HostResponse::Success(vec![0xff, 0xfe, b'{']);
    run_expecting(&c, &[Want("rust", Error, None), Want("go", Error, None)]);
    run_expecting(
        &case("empty", Op::ManifestDigest, ""),
        &[Want("rust", Error, None), Want("go", Error, None)],
    );
}

#[test]
fn the_shipped_corpus_runs_with_nothing_unexpected() {
    let project = Project::this_checkout();
    let cases = kwconform::case::load_cases(&[project.cases_dir()]).expect("the corpus loads");
    let list = project.cases_dir().join(kwconform::expectations::FILE_NAME);
    let expectations =
        kwconform::expectations::Expectations::load(&list).expect("the expectations list loads");
    let runner =
        Runner::new(engine(), common::guest_specs(), |_| {}).unwrap().with_expectations(expectations);
    let results = runner.run_collect(&cases);
    let report = kwconform::report::Report::from_results(&results);
    let unexpected: Vec<String> = report
        .results
        .iter()
        .filter(|r| r.unexpected)
        .map(|r| {
            format!(
                "{} ({:?}): {:?} {:?}",
                r.case,
                r.verdict,
                r.expectation.problems,
                r.diffs.iter().map(|d| &d.path).collect::<Vec<_>>()
            )
        })
        .collect();
    assert!(unexpected.is_empty(), "unexpected results:\n{}", unexpected.join("\n"));
    assert!(report.summary.total.cases >= 250, "{} cases", report.summary.total.cases);
    for op in Op::ALL {
        assert!(report.summary.by_op.contains_key(op.name()), "no case for {op}");
    }
}

#[test]
fn every_shared_registry_fixture_gets_an_outcome_from_both_sdks() {
    // The 136 real documents, byte for byte, as the corpus keeps them.
    let fixtures = Project::this_checkout().cases_dir().join("oci_manifest/fixtures");
    let mut cases = Vec::new();
    for project in std::fs::read_dir(&fixtures).unwrap() {
        let (found, skipped) = kwconform::case::load_raw_dir(
            &project.unwrap().path().join("bodies"),
            Op::OciManifest,
            &Input::new(),
        )
        .unwrap();
        assert!(skipped.is_empty(), "{skipped:?}");
        cases.extend(found);
    }
    assert_eq!(cases.len(), 136);
    let results = runner().run_collect(&cases);
    for result in &results.results {
        for (name, run) in &result.runs {
            assert_ne!(
                run.outcome.class(),
                EngineError,
                "{}: guest {name}: {:?}",
                result.case.id,
                run.outcome
            );
        }
    }
}

/// The host's side of a request: the Go SDK sends a policy's nil list of public keys as
/// `null`, which the host's request type (`SigstoreVerificationInputV2`, `pub_keys: Vec`)
/// cannot decode. The host refuses the call with serde's message, which the Go policy
/// gets as its error, and the divergence is on the request the host decoded.
#[test]
fn a_null_list_in_a_request_is_host_undecodable_with_the_hosts_error() {
    let mut c = case("verify/null-pub-keys", Op::VerifyPubKeys, r#"{"is_trusted":true,"digest":""}"#);
    c.input = json!({"image": "ghcr.io/kubewarden/tests/policy-server:v1.13.0", "pub_keys": null})
        .as_object()
        .unwrap()
        .clone();
    let result = run_expecting(&c, &[Want("rust", Ok, None), Want("go", Error, None)]);
    let call =
        |name: &str| result.runs.iter().find(|(n, _)| n == name).unwrap().1.invocation.calls[0].clone();
    let refused = "invalid type: null, expected a sequence";
    let go = call("go");
    assert_eq!(go.request, HostRequest::Undecodable(refused.into()));
    assert_eq!(go.answer, Answer::Error(refused.into()));
    assert!(matches!(&call("rust").request, HostRequest::Decoded(v) if v["pub_keys"] == json!([])));
    let (verdict, paths) = verdict_and_paths(&result);
    assert_eq!(
        (verdict, paths.as_slice()),
        (Verdict::Diverge, ["/calls/0/request", "/outcome"].map(String::from).as_slice())
    );
    let diff = &result.comparison.diffs[0];
    assert_eq!(diff.values["go"], Some(json!({ "undecodable": refused })));
}

#[test]
fn a_real_cluster_list_agrees_through_the_rust_side_equivalences_only() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../cases/list_resources_by_namespace/kwctl/go-wasi-context-aware-test-policy/1.json"
    );
    let real = kwconform::case::load_case_file(std::path::Path::new(path)).unwrap();
    let result = run_expecting(&real, &[Want("rust", Ok, None), Want("go", Ok, None)]);
    assert_eq!(result.comparison.verdict, Verdict::Agree);
    // The host's items carry no apiVersion or kind and their pod templates a null
    // creationTimestamp: k8s-openapi writes the first and reads the second as None.
    let rules: std::collections::BTreeSet<&str> =
        result.comparison.equivalences.iter().map(|e| e.rule.name()).collect();
    assert_eq!(rules.into_iter().collect::<Vec<_>>(), ["implied-by-type", "null-is-absent"]);
    let at = |path: &str| result.comparison.equivalences.iter().any(|e| e.path == path);
    assert!(at("/view/items/0/kind") && at("/view/items/2/spec/template/metadata/creationTimestamp"));
}

#[test]
fn a_document_k8s_openapi_refuses_reaches_a_go_policy_as_bytes() {
    let pod_for_a_namespace = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "customer-1"}});
    let result = run_expecting(
        &case("kind-wrong", Op::GetResource, &pod_for_a_namespace.to_string()),
        &[Want("rust", Error, None), Want("go", Ok, None)],
    );
    assert_eq!(verdict_and_paths(&result).1, ["/outcome"]);
    let go = result.runs.iter().find(|(name, _)| name == "go").map(|(_, run)| run).unwrap();
    let kwconform::guest::Outcome::Ok { view, .. } = &go.outcome else { unreachable!() };
    assert_eq!(*view, pod_for_a_namespace);
}

#[test]
fn a_null_document_is_a_null_view_for_a_kind_read_as_json() {
    let mut c = case("null-custom-resource", Op::GetResource, "null");
    c.input.insert("api_version".into(), json!("policies.kubewarden.io/v1"));
    c.input.insert("kind".into(), json!("ClusterAdmissionPolicy"));
    let result = run_expecting(&c, &[Want("rust", Ok, None), Want("go", Ok, None)]);
    assert_eq!(result.comparison.verdict, Verdict::Agree);
    for (_, run) in &result.runs {
        let kwconform::guest::Outcome::Ok { view, .. } = &run.outcome else { unreachable!() };
        assert_eq!(*view, serde_json::Value::Null);
    }
}
