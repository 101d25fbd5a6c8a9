//! kwctl session files: import, export, and the round trip between them.

use kwconform::case::{self, HostResponse, Op, Origin};
use kwconform::guest_build::Project;
use kwconform::kwctl;

const SESSION: &str = r#"---
- type: Exchange
  request: |
    !KubernetesGetResource
    api_version: /v1
    kind: Pod
    name: p-testing
    namespace: local
    disable_cache: true
  response:
    type: Success
    payload: '{"apiVersion":"v1","kind":"Pod"}'
- type: Exchange
  request: |
    !OciManifestDigest
    image: ghcr.io/kubewarden/tests/policy-server:v1.13.0
  response:
    type: Success
    payload: '{"digest":"sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"}'
- type: Exchange
  request: |
    !OciManifest
    image: ghcr.io/kubewarden/tests/missing:v0
  response:
    type: Error
    message: "Callback evaluation failure: manifest unknown"
"#;

#[test]
fn oci_exchanges_become_cases_and_the_rest_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replay-session.yml");
    std::fs::write(&path, SESSION).unwrap();
    let (cases, skipped) = kwctl::import(&path).unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!((skipped[0].index, skipped[0].request.as_str()), (0, "!KubernetesGetResource"));
    let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["manifest_digest/kwctl/replay-session/1", "oci_manifest/kwctl/replay-session/2"]);
    assert_eq!(cases[0].origin, Origin::KwctlSession);
    assert_eq!(cases[1].op, Op::OciManifest);
    assert_eq!(cases[1].image, "ghcr.io/kubewarden/tests/missing:v0");
    assert!(
        matches!(&cases[1].response, case::ResponseSpec::HostError(m) if m.ends_with("manifest unknown"))
    );
    // The imported cases are valid case files.
    for c in &cases {
        let file = dir.path().join(format!("{}.json", c.id.replace('/', "_")));
        std::fs::write(&file, serde_json::to_vec_pretty(c).unwrap()).unwrap();
        case::load_case_file(&file).unwrap();
    }
}

#[test]
fn a_malformed_session_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yml");
    std::fs::write(&path, "- type: Exchange\n  request: 3\n  response: [\n").unwrap();
    let e = kwctl::import(&path).unwrap_err();
    assert_eq!(e.path, path);
    assert!(e.line >= 2, "{e}");
    let bad_request = SESSION.replace("image: ghcr.io/kubewarden/tests/missing:v0", "img: x");
    std::fs::write(&path, bad_request).unwrap();
    let e = kwctl::import(&path).unwrap_err();
    assert_eq!((e.line, e.column), (21, 3), "{e}"); // the exchange's `request:` key
    assert!(e.message.contains("exchange 2"), "{e}");
}

#[test]
fn every_corpus_case_round_trips_through_a_session() {
    let cases = case::load_cases(&[Project::this_checkout().cases_dir()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut round_tripped = 0;
    for (i, case) in cases.iter().enumerate() {
        let Ok(session) = kwctl::export(case) else {
            assert!(matches!(&case.response, HostResponse::Success(b) if std::str::from_utf8(b).is_err()));
            continue;
        };
        let path = dir.path().join(format!("s{i}.yml"));
        std::fs::write(&path, session).unwrap();
        let (imported, skipped) = kwctl::import(&path).unwrap();
        assert!(skipped.is_empty());
        let [back] = imported.as_slice() else { panic!("{}: {imported:?}", case.id) };
        assert_eq!((back.op, back.image.as_str()), (case.op, case.image.as_str()), "{}", case.id);
        let bytes = match &back.response {
            case::ResponseSpec::Text(t) => HostResponse::Success(t.as_bytes().to_vec()),
            case::ResponseSpec::HostError(m) => HostResponse::Error(m.clone()),
            other => panic!("{other:?}"),
        };
        assert_eq!(bytes, case.response, "{}", case.id);
        round_tripped += 1;
    }
    assert!(round_tripped >= 250, "{round_tripped}");
}
