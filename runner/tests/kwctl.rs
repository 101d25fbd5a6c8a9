//! kwctl session files, checked against kwctl's own session types (kwctl
//! `src/callback_handler/proxy.rs`, policy-evaluator's `CallbackRequestType` as of
//! kwctl 1.33) with both
//! YAML crates kwctl has used: `serde_yaml` 0.9.34 (up to kwctl 1.35) and `yaml_serde`
//! 0.10 (kwctl 1.36 on).

mod common;

use kwconform::case::{self, HostResponse, Op, Origin, ResponseSpec};
use kwconform::guest::Outcome;
use kwconform::guest_build::Project;
use kwconform::host::Answer;
use kwconform::kwctl;
use serde::{Deserialize, Serialize};

/// kwctl's session types, as kwctl declares them.
mod kwctl_types {
    use super::*;
    use kubewarden_policy_sdk::host_capabilities::crypto_v1::CertificateVerificationRequest;
    use kubewarden_policy_sdk::host_capabilities::kubernetes::SubjectAccessReview;
    use std::collections::BTreeSet;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type")]
    pub enum Response {
        Success { payload: String },
        Error { message: String },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type")]
    pub struct Exchange {
        pub request: String,
        pub response: Response,
    }

    /// The variants of `CallbackRequestType` kwconform runs (externally tagged). kwctl's
    /// annotations are a `HashMap`, whose order is arbitrary; a `BTreeMap` here.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[allow(clippy::enum_variant_names)] // kwctl's own names
    pub enum Request {
        OciManifestDigest {
            image: String,
        },
        OciManifest {
            image: String,
        },
        OciManifestAndConfig {
            image: String,
        },
        SigstorePubKeyVerify {
            image: String,
            pub_keys: Vec<String>,
            annotations: Option<Annotations>,
        },
        SigstoreKeylessVerify {
            image: String,
            keyless: Vec<Keyless>,
            annotations: Option<Annotations>,
        },
        SigstoreKeylessPrefixVerify {
            image: String,
            keyless_prefix: Vec<KeylessPrefix>,
            annotations: Option<Annotations>,
        },
        SigstoreGithubActionsVerify {
            image: String,
            owner: String,
            repo: Option<String>,
            annotations: Option<Annotations>,
        },
        SigstoreCertificateVerify {
            image: String,
            certificate: Vec<u8>,
            certificate_chain: Option<Vec<Vec<u8>>>,
            require_rekor_bundle: bool,
            annotations: Option<Annotations>,
        },
        DNSLookupHost {
            host: String,
        },
        KubernetesGetResource {
            api_version: String,
            kind: String,
            name: String,
            namespace: Option<String>,
            disable_cache: bool,
            field_masks: Option<BTreeSet<String>>,
        },
        KubernetesListResourceNamespace {
            api_version: String,
            kind: String,
            namespace: String,
            label_selector: Option<String>,
            field_selector: Option<String>,
            field_masks: Option<BTreeSet<String>>,
        },
        KubernetesListResourceAll {
            api_version: String,
            kind: String,
            label_selector: Option<String>,
            field_selector: Option<String>,
            field_masks: Option<BTreeSet<String>>,
        },
        KubernetesCanI {
            request: SubjectAccessReview,
            disable_cache: bool,
        },
        CryptoIsCertificateTrusted {
            request: CertificateVerificationRequest,
        },
    }

    pub type Annotations = std::collections::BTreeMap<String, String>;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    pub struct Keyless {
        pub issuer: String,
        pub subject: String,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    pub struct KeylessPrefix {
        pub issuer: String,
        pub url_prefix: String,
    }
}

use kwctl_types::{Exchange, Request, Response};

/// A session as kwctl writes it: each request with `serde_yaml::to_string`, the list
/// with `serde_yaml::to_writer`, a failed callback's bare message.
fn written_by_kwctl(exchanges: &[(Request, Response)]) -> String {
    let list: Vec<Exchange> = exchanges
        .iter()
        .map(|(request, response)| Exchange {
            request: serde_yaml::to_string(request).unwrap(),
            response: match response {
                Response::Success { payload } => Response::Success { payload: payload.clone() },
                Response::Error { message } => Response::Error { message: message.clone() },
            },
        })
        .collect();
    let mut out = Vec::new();
    serde_yaml::to_writer(&mut out, &list).unwrap();
    String::from_utf8(out).unwrap()
}

fn import_text(
    text: &str,
    name: &str,
) -> Result<(Vec<case::CaseFile>, Vec<kwctl::Skipped>), case::CaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    kwctl::import(&path).map_err(|mut e| {
        e.path = name.into();
        e
    })
}

const SESSION: &str = r#"---
- type: Exchange
  request: |
    !KubernetesCanI
    request:
      groups: null
      resource_attributes: {group: apps, name: null, namespace: default, resource: deployments, subresource: null, verb: create, version: null}
      user: system:serviceaccount:local:p-testing
    disable_cache: true
  response:
    type: Success
    payload: '{"allowed":false}'
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
    message: manifest unknown
- type: Exchange
  request: |
    !KubernetesGetResourcePluralName
    api_version: v1
    kind: Service
  response:
    type: Success
    payload: services
- type: Exchange
  request: |
    !CryptoIsCertificateTrusted
    request:
      cert: {encoding: Pem, data: [80, 69, 77]}
      cert_chain: null
      not_after: 2030-01-01T00:00:00Z
  response:
    type: Success
    payload: '{"trusted":true,"reason":""}'
"#;

#[test]
fn exchanges_of_operations_kwconform_runs_become_cases_and_the_rest_is_skipped() {
    let (cases, skipped) = import_text(SESSION, "replay-session.yml").unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!((skipped[0].index, skipped[0].request.as_str()), (3, "!KubernetesGetResourcePluralName"));
    let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "can_i/kwctl/replay-session/0",
            "manifest_digest/kwctl/replay-session/1",
            "oci_manifest/kwctl/replay-session/2",
            "is_certificate_trusted/kwctl/replay-session/4"
        ]
    );
    assert_eq!(cases[0].origin, Origin::KwctlSession);
    assert_eq!(
        (cases[2].op, cases[2].image.as_deref().unwrap_or_default()),
        (Op::OciManifest, "ghcr.io/kubewarden/tests/missing:v0")
    );
    assert!(matches!(&cases[2].response, ResponseSpec::HostError(m) if m == "manifest unknown"));
    // The SDK's request under `request:` becomes the inputs, certificate bytes text.
    let input = |i: usize| serde_json::Value::Object(cases[i].input.clone().unwrap());
    assert_eq!(
        input(0),
        serde_json::json!({
            "user": "system:serviceaccount:local:p-testing", "groups": null, "disable_cache": true,
            "resource_attributes": {"group": "apps", "name": null, "namespace": "default",
                "resource": "deployments", "subresource": null, "verb": "create", "version": null}
        })
    );
    assert_eq!(
        input(3),
        serde_json::json!({"cert": {"encoding": "Pem", "data": "PEM"}, "cert_chain": null, "not_after": "2030-01-01T00:00:00Z"})
    );
    // The imported cases are valid case files.
    let dir = tempfile::tempdir().unwrap();
    for c in &cases {
        let file = dir.path().join(format!("{}.json", c.id.replace('/', "_")));
        std::fs::write(&file, serde_json::to_vec_pretty(c).unwrap()).unwrap();
        case::load_case_file(&file).unwrap();
    }
}

#[test]
fn sessions_read_as_kwctl_reads_them() {
    // No `type:` on an exchange, a request that starts with a comment, flow style.
    let text = "- request: |\n    # recorded by hand\n    !OciManifest\n    image: a.example/b:c\n  response:\n    type: Success\n    payload: '{}'\n\
                - request: '!OciManifestDigest {image: a.example/b:c}'\n  response: {type: Error, message: gone}\n";
    let (cases, skipped) = import_text(text, "hand.yml").unwrap();
    assert!(skipped.is_empty());
    assert_eq!(cases.iter().map(|c| c.op).collect::<Vec<_>>(), [Op::OciManifest, Op::ManifestDigest]);
    // kwctl itself reads the same file the same way.
    let theirs: Vec<Exchange> = serde_yaml::from_str(text).unwrap();
    assert_eq!(theirs.len(), 2);
    // An empty session is `[]`.
    assert_eq!(import_text("[]\n", "empty.yml").unwrap().0.len(), 0);
}

#[test]
fn malformed_sessions_are_located_at_the_exchange_and_inside_its_request() {
    let e = import_text("- type: Exchange\n  request: 3\n  response: [\n", "bad.yml").unwrap_err();
    assert!(e.line >= 3, "{e}");
    // A bad request in the third exchange, after a Kubernetes request that has a
    // `request:` member of its own.
    let can_i = "- type: Exchange\n  request: |\n    !KubernetesCanI\n    request:\n      user: alice\n      resource_attributes: {verb: get, resource: pods}\n    disable_cache: false\n  response:\n    type: Success\n    payload: '{}'\n";
    let text = format!("{can_i}{}", SESSION.trim_start_matches("---\n"))
        .replace("image: ghcr.io/kubewarden/tests/missing:v0", "img: x");
    let e = import_text(&text, "bad.yml").unwrap_err();
    assert!(e.message.contains("exchange 3"), "{e}");
    assert_eq!((e.line, e.column), (31, 5), "{e}"); // `img: x`, inside exchange 3's request
    // A type error inside a response is at that response, not at 1:1.
    let text = SESSION.replace("payload: '{\"digest\"", "payloadx: '{\"digest\"");
    let e = import_text(&text, "bad.yml").unwrap_err();
    assert_eq!((e.line, e.column), (17, 3), "{e}"); // exchange 1's `response:`
    assert!(e.message.contains("exchange 1: response"), "{e}");
    // A request that is not a tagged document.
    let e = import_text("- request: 'image: x'\n  response: {type: Success, payload: ''}\n", "bad.yml")
        .unwrap_err();
    assert_eq!((e.line, e.column), (1, 3), "{e}");
    // A `can_i` request without the attributes the SDK's type requires, located inside it.
    let e = import_text(
        "- request: |\n    !KubernetesCanI\n    request:\n      user: alice\n    disable_cache: false\n  response: {type: Success, payload: '{}'}\n",
        "bad.yml",
    )
    .unwrap_err();
    assert!(
        e.message.contains("exchange 0: bad request") && e.message.contains("resource_attributes"),
        "{e}"
    );
    assert_eq!((e.line, e.column), (4, 7), "{e}"); // the mapping that lacks it
}

#[test]
fn a_certificate_check_whose_bytes_are_not_text_is_skipped() {
    let text = "- request: |\n    !CryptoIsCertificateTrusted\n    request:\n      cert: {encoding: Der, data: [48, 130, 255]}\n      cert_chain: null\n      not_after: null\n  response: {type: Success, payload: '{\"trusted\":true,\"reason\":\"\"}'}\n";
    let (cases, skipped) = import_text(text, "der.yml").unwrap();
    assert!(cases.is_empty());
    assert_eq!((skipped[0].index, skipped[0].request.as_str()), (0, "!CryptoIsCertificateTrusted"));
}

#[test]
fn exported_sessions_are_byte_for_byte_what_kwctl_writes_for_every_case() {
    let cases = case::load_cases(&[Project::this_checkout().cases_dir()]).unwrap();
    let (mut exported, mut not_utf8) = (0, 0);
    for case in &cases {
        let session = match kwctl::export(case) {
            Ok(session) => session,
            Err(kwctl::ExportError::NotUtf8 { .. }) => {
                assert!(
                    matches!(&case.response, HostResponse::Success(b) if std::str::from_utf8(b).is_err())
                );
                not_utf8 += 1;
                continue;
            }
        };
        // kwctl (both YAML crates) reads it, and writes exactly the same bytes back.
        let old: Vec<Exchange> =
            serde_yaml::from_str(&session).unwrap_or_else(|e| panic!("{}: {e}", case.id));
        let new: Vec<Exchange> = yaml_serde::from_str(&session).unwrap();
        assert_eq!(old, new);
        let mut rewritten = Vec::new();
        serde_yaml::to_writer(&mut rewritten, &old).unwrap();
        assert_eq!(String::from_utf8(rewritten).unwrap(), session, "{}", case.id);
        assert_eq!(yaml_serde::to_string(&new).unwrap(), session, "{}", case.id);
        let request: Request = serde_yaml::from_str(&old[0].request).unwrap();
        assert_eq!(serde_yaml::to_string(&request).unwrap(), old[0].request, "{}", case.id);
        // A failed callback is recorded with its bare message, as kwctl records it.
        if let (HostResponse::Error(message), Response::Error { message: recorded }) =
            (&case.response, &old[0].response)
        {
            assert_eq!(recorded, message);
            assert!(!recorded.starts_with("Callback evaluation failure"), "{}", case.id);
        }
        exported += 1;
    }
    assert_eq!(exported + not_utf8, cases.len());
    assert!(exported >= 790, "{exported} of {}", cases.len());
}

#[test]
fn a_session_kwctl_wrote_replays_with_the_host_s_wrapping_applied_once() {
    let text = written_by_kwctl(&[
        (
            Request::OciManifestDigest { image: "ghcr.io/a/b:c".into() },
            Response::Error { message: "manifest unknown".into() },
        ),
        (
            Request::OciManifestDigest { image: "ghcr.io/a/b:c".into() },
            Response::Success {
                payload:
                    r#"{"digest":"sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"}"#
                        .into(),
            },
        ),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("recorded.yml");
    std::fs::write(&path, &text).unwrap();
    let (files, _) = kwctl::import(&path).unwrap();
    let case_dir = dir.path().join("cases");
    for file in &files {
        case::write_case_file(&case_dir, &file.id, file).unwrap();
    }
    let cases = case::load_cases(&[case_dir]).unwrap();
    let failed = cases.iter().find(|c| matches!(c.response, HostResponse::Error(_))).unwrap();
    let result = common::runner().run_case(failed);
    for (name, run) in &result.runs {
        assert_eq!(
            run.invocation.calls[0].answer,
            Answer::Error("Callback evaluation failure: manifest unknown".into()),
            "{name}"
        );
        let Outcome::Error { message } = &run.outcome else { panic!("{name}: {:?}", run.outcome) };
        assert_eq!(message.matches("Callback evaluation failure").count(), 1, "{name}: {message}");
    }
    // And back: the session kwconform writes for the case is the one kwctl wrote.
    let exported = kwctl::export(failed).unwrap();
    let theirs: Vec<Exchange> = serde_yaml::from_str(&text).unwrap();
    let mut one = Vec::new();
    serde_yaml::to_writer(&mut one, &theirs[..1]).unwrap();
    assert_eq!(exported, String::from_utf8(one).unwrap());
}

#[test]
fn every_corpus_case_round_trips_through_a_session() {
    let cases = case::load_cases(&[Project::this_checkout().cases_dir()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut round_tripped = 0;
    for (i, case) in cases.iter().enumerate() {
        let Ok(session) = kwctl::export(case) else { continue };
        let path = dir.path().join(format!("s{i}.yml"));
        std::fs::write(&path, session).unwrap();
        let (imported, skipped) = kwctl::import(&path).unwrap();
        assert!(skipped.is_empty());
        let [back] = imported.as_slice() else { panic!("{}: {imported:?}", case.id) };
        let image = match &back.input {
            Some(input) => input.get("image").and_then(|i| i.as_str()).unwrap_or_default(),
            None => back.image.as_deref().unwrap_or_default(),
        };
        assert_eq!((back.op, image), (case.op, case.image()), "{}", case.id);
        let bytes = match &back.response {
            ResponseSpec::Text(t) => HostResponse::Success(t.as_bytes().to_vec()),
            ResponseSpec::HostError(m) => HostResponse::Error(m.clone()),
            other => panic!("{other:?}"),
        };
        assert_eq!(bytes, case.response, "{}", case.id);
        // The imported case is a valid case whose session is the same one: the inputs
        // came back as far as the host decodes them.
        let file = case::write_case_file(dir.path(), &format!("back{i}"), back).unwrap().unwrap();
        let again = kwctl::export(&case::load_case_file(&file).unwrap()).unwrap();
        assert_eq!(again, std::fs::read_to_string(&path).unwrap(), "{}", case.id);
        round_tripped += 1;
    }
    assert!(round_tripped >= 790, "{round_tripped}");
}
