use super::*;

fn relayed(op: Op, body: &str) -> HostResponse {
    relay(op, &HostResponse::Success(body.as_bytes().to_vec())).unwrap()
}

fn text(r: &HostResponse) -> &str {
    match r {
        HostResponse::Success(b) => std::str::from_utf8(b).unwrap(),
        HostResponse::Error(e) => e,
    }
}

const DIGEST: &str = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";

#[test]
fn a_manifest_is_compacted_reordered_and_stripped_of_unknown_fields() {
    let body = format!(
        r#"{{ "layers": [], "mediaType": "application/vnd.oci.image.manifest.v1+json", "schemaVersion": 2,
            "config": {{"size": 2, "digest": "{DIGEST}", "mediaType": "application/vnd.oci.image.config.v1+json", "data": "e30="}},
            "unknown": true, "annotations": {{"b": "2", "a": "1"}} }}"#
    );
    let out = relayed(Op::OciManifest, &body);
    let expected = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{DIGEST}","size":2}},"layers":[],"annotations":{{"a":"1","b":"2"}}}}"#
    );
    assert_eq!(text(&out), expected);
}

#[test]
fn documents_the_host_rejects_become_its_errors() {
    let schema1 = r#"{"schemaVersion": 1, "name": "x"}"#;
    assert_eq!(
        relayed(Op::OciManifest, schema1),
        HostResponse::Error("Unsupported schema version: 1".into())
    );
    let artifact = r#"{"schemaVersion": 2, "mediaType": "application/vnd.oci.artifact.manifest.v1+json"}"#;
    assert!(
        text(&relayed(Op::OciManifest, artifact))
            .contains("Unsupported media type: application/vnd.oci.artifact.manifest.v1+json")
    );
    assert!(matches!(relayed(Op::OciManifest, "not json"), HostResponse::Error(_)));
}

#[test]
fn host_errors_pass_through() {
    let error = HostResponse::Error("Callback evaluation failure: manifest unknown".into());
    assert_eq!(relay(Op::ManifestDigest, &error).unwrap(), error);
}

#[test]
fn digest_answers_keep_only_the_digest() {
    let out = relayed(Op::ManifestDigest, &format!(r#"{{ "extra": 1, "digest": "{DIGEST}" }}"#));
    assert_eq!(text(&out), format!(r#"{{"digest":"{DIGEST}"}}"#));
}

#[test]
fn manifest_and_config_answers_relay_the_manifest_and_keep_the_config_as_json() {
    let body = format!(
        r#"{{"digest": "{DIGEST}", "config": {{"os": "linux", "architecture": "amd64"}},
            "manifest": {{"schemaVersion": 2, "config": {{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "{DIGEST}", "size": 2}}, "layers": []}}}}"#
    );
    let out = relayed(Op::OciManifestConfig, &body);
    let expected = format!(
        r#"{{"manifest":{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{DIGEST}","size":2}},"layers":[]}},"digest":"{DIGEST}","config":{{"architecture":"amd64","os":"linux"}}}}"#
    );
    assert_eq!(text(&out), expected);
}

#[test]
fn an_index_inside_manifest_and_config_cannot_be_relayed() {
    let body = format!(
        r#"{{"digest": "{DIGEST}", "config": {{}}, "manifest": {{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}}}}"#
    );
    assert_eq!(
        relay(Op::OciManifestConfig, &HostResponse::Success(body.into_bytes())),
        Err(RelayError::IndexNeedsPlatformResolution)
    );
}

#[test]
fn answers_without_a_fetched_document_and_kubernetes_answers_are_not_relayed() {
    let answer = HostResponse::Success(b"{}".to_vec());
    for op in Op::ALL {
        let expected = match op {
            Op::OciManifest | Op::ManifestDigest | Op::OciManifestConfig => continue,
            Op::CanI | Op::GetResource | Op::ListResourcesByNamespace | Op::ListResourcesAll => {
                RelayError::KubernetesNotModelled(op)
            }
            _ => RelayError::NotRelayed(op),
        };
        assert_eq!(relay(op, &answer), Err(expected), "{op}");
    }
}
