//! The matrix over two releases of each SDK: the pair table and the release drift.

mod common;

use kwconform::case::load_cases;
use kwconform::guest::GuestSpec;
use kwconform::guest_build::{Project, SdkSpec};
use kwconform::matrix::{Release, matrix};

#[test]
fn two_releases_of_each_sdk_make_a_two_by_two_matrix_with_drift_lists() {
    let project = Project::this_checkout();
    let pinned = common::guest_specs();
    let release = |spec: &str, guest: &GuestSpec| Release { spec: spec.into(), guest: guest.clone() };
    let older = |flavour: &str, spec: &str| {
        let sdk = SdkSpec::parse(spec);
        let path = match flavour {
            "rust" => project.build_rust_guest_for(&sdk, &mut std::io::stderr()),
            _ => project.build_go_guest_for(&sdk, &mut std::io::stderr()),
        };
        Release { spec: spec.into(), guest: GuestSpec { name: flavour.into(), path: path.unwrap() } }
    };
    let rust = [older("rust", "0.16.0"), release("0.17.3", &pinned[0])];
    let go = [older("go", "v0.12.0"), release("v0.13.1", &pinned[1])];
    let cases: Vec<_> = load_cases(&[project.cases_dir()])
        .unwrap()
        .into_iter()
        .filter(|c| {
            c.id.starts_with("oci_manifest/in-the-wild/") || c.id.starts_with("oci_manifest_config/shapes/")
        })
        .collect();
    let mut steps = 0;
    let m = matrix(&rust, &go, &cases, &project.module_cache_dir(), |p| steps = p.done).unwrap();
    assert_eq!(steps, 6, "4 pairs and 2 release steps");
    assert_eq!(m.pairs.len(), 4);
    for pair in &m.pairs {
        assert_eq!(pair.cases, cases.len());
        assert_eq!(pair.agree + pair.diverge + pair.crash + pair.inconclusive, cases.len());
        // The in-the-wild disagreements are there for every pair, e.g. no mediaType.
        assert!(pair.signatures.contains_key("go error, rust ok/image at /outcome"), "{pair:?}");
    }
    let steps: Vec<(&str, &str, &str)> =
        m.drift.iter().map(|d| (d.sdk.as_str(), d.from.as_str(), d.to.as_str())).collect();
    assert_eq!(steps, [("rust", "0.16.0", "0.17.3"), ("go", "v0.12.0", "v0.13.1")]);
    let md = m.markdown();
    assert!(md.contains("| rust \\ go | v0.12.0 | v0.13.1 |"), "{md}");
    assert!(md.contains("### rust 0.16.0 → 0.17.3:"));
    let html = m.html();
    assert!(html.contains("<table id=\"pairs\">") && !html.contains("/*MATRIX*/"));
}
