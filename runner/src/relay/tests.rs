use serde_json::json;

use super::*;

fn relayed(op: Op, body: &str) -> HostResponse {
    relayed_with(op, json!({}), body)
}

fn relayed_with(op: Op, input: serde_json::Value, body: &str) -> HostResponse {
    relay_with(op, input, body).unwrap()
}

fn relay_with(op: Op, input: serde_json::Value, body: &str) -> Result<HostResponse, RelayError> {
    let serde_json::Value::Object(input) = input else { panic!("an input is an object") };
    relay(op, &input, &HostResponse::Success(body.as_bytes().to_vec()))
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
    assert_eq!(relay(Op::ManifestDigest, &Input::new(), &error).unwrap(), error);
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
        relay_with(Op::OciManifestConfig, json!({}), &body),
        Err(RelayError::IndexNeedsPlatformResolution)
    );
}

#[test]
fn answers_without_a_fetched_document_are_not_relayed() {
    for op in Op::ALL {
        if op.is_oci()
            || matches!(op, Op::CanI | Op::GetResource | Op::ListResourcesByNamespace | Op::ListResourcesAll)
        {
            continue;
        }
        assert_eq!(relay_with(op, json!({}), "{}"), Err(RelayError::NotRelayed(op)), "{op}");
    }
}

const POD: &str = r#"{"kind": "Pod", "apiVersion": "v1",
    "metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2026-06-15T04:14:51.250Z",
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "a"},
        "managedFields": [{"manager": "kubectl", "operation": "Apply"}], "unknownMeta": 1},
    "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}], "nodeName": "n1"},
    "status": {"phase": "Running"}}"#;

#[test]
fn a_got_object_goes_through_kube_cores_dynamic_object() {
    // ObjectMeta drops unknown members and the timestamp's fraction and orders its
    // members; nothing else of metadata changes (no managedFields clearing for a get).
    let out = relayed_with(Op::GetResource, json!({"field_masks": null}), POD);
    assert_eq!(
        text(&out),
        r#"{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}","team":"a"},"creationTimestamp":"2026-06-15T04:14:51Z","managedFields":[{"manager":"kubectl","operation":"Apply"}],"name":"web","namespace":"default"},"spec":{"containers":[{"image":"nginx:1.27","name":"nginx"}],"nodeName":"n1"},"status":{"phase":"Running"}}"#
    );
}

#[test]
fn field_masks_prune_members_other_than_metadata_and_reach_into_arrays() {
    let masks = json!({"field_masks": ["spec.containers.image", "metadata.name", "spec"]});
    let out = relayed_with(Op::GetResource, masks, POD);
    let out: serde_json::Value = serde_json::from_str(text(&out)).unwrap();
    // `spec` is overridden by the deeper `spec.containers.image`; metadata is never
    // pruned; `status` is not named, so it goes.
    assert_eq!(out["spec"], json!({"containers": [{"image": "nginx:1.27"}]}));
    assert_eq!(out["metadata"]["namespace"], "default");
    assert_eq!(out.get("status"), None);
    // An empty set of masks keeps everything.
    let out = relayed_with(Op::GetResource, json!({"field_masks": []}), POD);
    assert!(text(&out).contains(r#""status":{"phase":"Running"}"#));
}

#[test]
fn a_body_kube_cannot_decode_is_the_host_error_kube_gives() {
    let out = relayed_with(Op::GetResource, json!({}), r#"{"metadata": {"name": 1}}"#);
    assert!(text(&out).starts_with("Error deserializing response: invalid type: integer `1`"), "{out:?}");
    let out = relay(Op::GetResource, &Input::new(), &HostResponse::Success(vec![b'{', 0xff])).unwrap();
    assert_eq!(text(&out), "UTF-8 Error: invalid utf-8 sequence of 1 bytes from index 1");
}

#[test]
fn a_list_is_rebuilt_from_the_reflectors_objects() {
    let body = format!(
        r#"{{"kind": "PodList", "apiVersion": "v1", "metadata": {{"resourceVersion": "562"}},
            "items": [{POD}, {{"metadata": {{"name": "db", "namespace": "default"}}}},
                      {{"metadata": {{"name": "web", "namespace": "default", "uid": "later"}}}}]}}"#
    );
    let input = json!({"api_version": "v1", "kind": "Pod", "field_masks": ["status"]});
    let out = relayed_with(Op::ListResourcesAll, input, &body);
    // A new envelope with empty metadata; managedFields emptied, the last-applied
    // annotation removed, both inserted empty where absent; the later `web` replaces
    // the earlier one in its place; masks applied.
    assert_eq!(
        text(&out),
        r#"{"apiVersion":"v1","kind":"PodList","metadata":{},"items":[{"metadata":{"annotations":{},"managedFields":[],"name":"web","namespace":"default","uid":"later"}},{"metadata":{"annotations":{},"managedFields":[],"name":"db","namespace":"default"}}]}"#
    );
}

#[test]
fn a_list_the_reflector_cannot_load_is_never_answered() {
    let input = json!({"api_version": "v1", "kind": "Pod"});
    for body in [r#"{"items": {}}"#, r#"{"items": [{"metadata": {}}]}"#, "not json"] {
        let out = relay_with(Op::ListResourcesByNamespace, input.clone(), body);
        assert!(matches!(out, Err(RelayError::ListNeverLoaded(_))), "{body}: {out:?}");
    }
    // kube-core reads a `v1 List` envelope and a null `items` as an empty list.
    let out =
        relayed_with(Op::ListResourcesAll, input, r#"{"apiVersion": "v1", "kind": "List", "items": null}"#);
    assert_eq!(text(&out), r#"{"apiVersion":"v1","kind":"PodList","metadata":{},"items":[]}"#);
}

#[test]
fn can_i_answers_the_reviews_status() {
    let review = r#"{"kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "metadata": {},
        "spec": {"user": "u", "resourceAttributes": {"verb": "get", "resource": "pods"}},
        "status": {"allowed": true, "reason": "RBAC: allowed by ClusterRoleBinding"}}"#;
    assert_eq!(
        text(&relayed(Op::CanI, review)),
        r#"{"allowed":true,"reason":"RBAC: allowed by ClusterRoleBinding"}"#
    );
    let pending = r#"{"spec": {}}"#;
    assert_eq!(
        relayed(Op::CanI, pending),
        HostResponse::Error("SubjectAccessReview did not return a response".into())
    );
}

#[test]
fn every_relayable_raw_case_has_a_twin_that_is_what_the_relay_makes_of_it_today() {
    // A bump of oci-client, kube-core or k8s-openapi that changes what the host sends
    // shows here, not as a silently outdated corpus.
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases");
    let cases = crate::case::load_cases(&[corpus]).unwrap();
    let by_id: std::collections::HashMap<&str, &Case> = cases.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut checked = 0;
    for source in cases.iter().filter(|c| c.origin == Origin::RegistryRaw) {
        let Ok(expected) = twin(source) else { continue };
        let committed = by_id.get(expected.id.as_str()).unwrap_or_else(|| panic!("no twin {}", expected.id));
        assert_eq!(committed.response, relay_case_response(source).unwrap(), "{}", expected.id);
        checked += 1;
    }
    assert!(checked >= 200, "{checked} twins");
}
