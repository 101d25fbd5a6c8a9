use serde_json::json;

use super::*;
use crate::case::Op;

/// A view whose SDK can tell absent from everything (the Rust SDK, or no table).
fn exact(view: &Value) -> Side<'_> {
    Side { view, types: None }
}

/// A Go SDK view of `op` (kind `image` for `oci_manifest`).
fn go(op: Op, view: &Value) -> Side<'_> {
    Side { view, types: view_type(GO_SDK, op, Some("image")) }
}

fn go_config(view: &Value) -> Side<'_> {
    go(Op::OciManifestConfig, view)
}

fn paths(c: &ViewComparison) -> Vec<&str> {
    c.differences.iter().map(|d| d.path.as_str()).collect()
}

fn rules(c: &ViewComparison) -> Vec<(&str, Rule)> {
    c.equivalences.iter().map(|e| (e.path.as_str(), e.rule)).collect()
}

#[test]
fn identical_views_have_no_differences() {
    let v = json!({"schemaVersion": 2, "layers": [{"size": 1}]});
    assert_eq!(compare_views("/view", exact(&v), exact(&v)), ViewComparison::default());
}

#[test]
fn differences_are_reported_at_the_deepest_path() {
    let l = json!({"manifests": [{"platform": {"os": "linux", "os.version": "10.0"}}]});
    let r = json!({"manifests": [{"platform": {"os": "windows", "os.version": "10.0"}}]});
    let c = compare_views("/view", exact(&l), exact(&r));
    assert_eq!(paths(&c), ["/view/manifests/0/platform/os"]);
    assert_eq!(c.differences[0].left, Some(json!("linux")));
    assert_eq!(c.differences[0].right, Some(json!("windows")));
}

#[test]
fn a_member_present_only_on_one_side_is_a_difference_with_absent() {
    let c = compare_views("/view", exact(&json!({})), exact(&json!({"os.version": "10.0.17763"})));
    assert_eq!(
        c.differences,
        [Difference { path: "/view/os.version".into(), left: None, right: Some(json!("10.0.17763")) }]
    );
}

#[test]
fn json_pointer_tokens_are_escaped() {
    let c = compare_views("/view", exact(&json!({"a/b~c": 1})), exact(&json!({"a/b~c": 2})));
    assert_eq!(paths(&c), ["/view/a~1b~0c"]);
}

#[test]
fn arrays_of_different_length_differ_as_a_whole() {
    let c = compare_views("/view", exact(&json!({"layers": [1, 2]})), exact(&json!({"layers": [1]})));
    assert_eq!(paths(&c), ["/view/layers"]);
}

#[test]
fn integers_are_compared_exactly_beyond_2_pow_53() {
    let l = json!({"size": 9007199254740993_u64});
    let r = json!({"size": 9007199254740992_u64});
    assert_eq!(paths(&compare_views("/view", exact(&l), exact(&r))), ["/view/size"]);
    let max = json!({"size": u64::MAX});
    assert!(compare_views("/view", exact(&max), exact(&max)).differences.is_empty());
    // i64::MAX held as i64 by one SDK and as u64 by the other is the same number.
    let (signed, unsigned) = (json!({"size": i64::MAX}), json!({"size": i64::MAX as u64}));
    assert!(compare_views("/view", exact(&signed), exact(&unsigned)).differences.is_empty());
}

// zero-value-is-absent: Go's plain fields and struct values, on the Go side only.

#[test]
fn go_plain_fields_at_their_zero_value_are_equivalent_to_absence_and_say_so() {
    let rust = json!({"config": {"config": {"User": "x"}, "architecture": "amd64"}});
    let go_view = json!({"config": {
        "config": {"User": "x", "WorkingDir": "", "ArgsEscaped": false},
        "architecture": "amd64", "author": "", "variant": ""
    }});
    let c = compare_views("/view", exact(&rust), go_config(&go_view));
    assert!(c.differences.is_empty(), "{:?}", c.differences);
    assert_eq!(
        rules(&c),
        [
            ("/view/config/author", Rule::ZeroValueIsAbsent),
            ("/view/config/config/ArgsEscaped", Rule::ZeroValueIsAbsent),
            ("/view/config/config/WorkingDir", Rule::ZeroValueIsAbsent),
            ("/view/config/variant", Rule::ZeroValueIsAbsent),
        ]
    );
}

#[test]
fn zero_values_apply_in_either_argument_order_but_only_on_the_go_side() {
    let (rust, go_view) = (json!({"digest": "sha256:x"}), json!({"digest": "sha256:x", "artifactType": ""}));
    let image = |v| json!({"schemaVersion": 2, "config": v});
    let (rust, go_view) = (image(rust), image(go_view));
    let forward = compare_views("/view", exact(&rust), go(Op::OciManifest, &go_view));
    assert_eq!(rules(&forward), [("/view/config/artifactType", Rule::ZeroValueIsAbsent)]);
    let backward = compare_views("/view", go(Op::OciManifest, &go_view), exact(&rust));
    assert_eq!(rules(&backward), [("/view/config/artifactType", Rule::ZeroValueIsAbsent)]);
    // The same values with the zero on a side whose SDK can tell: a difference.
    let rust_has_zero = compare_views("/view", exact(&go_view), exact(&rust));
    assert_eq!(paths(&rust_has_zero), ["/view/config/artifactType"]);
}

#[test]
fn a_go_struct_value_of_zero_members_is_equivalent_to_absence() {
    // image-spec's Image.Config is an ImageConfig held by value.
    let rust = json!({"config": {}});
    let zero =
        json!({"config": {"config": {"User": "", "WorkingDir": "", "StopSignal": "", "ArgsEscaped": false}}});
    let c = compare_views("/view", exact(&rust), go_config(&zero));
    assert!(c.differences.is_empty(), "{:?}", c.differences);
    assert_eq!(rules(&c), [("/view/config/config", Rule::ZeroValueIsAbsent)]);
    // One step outside: a member that is not zero, or a nil-able member present.
    let user = json!({"config": {"config": {"User": "root", "WorkingDir": "", "StopSignal": "", "ArgsEscaped": false}}});
    let env = json!({"config": {"config": {"User": "", "WorkingDir": "", "StopSignal": "", "ArgsEscaped": false, "Env": []}}});
    for view in [&user, &env] {
        assert_eq!(paths(&compare_views("/view", exact(&rust), go_config(view))), ["/view/config/config"]);
    }
}

#[test]
fn go_pointers_maps_and_slices_can_be_absent_so_their_zero_is_a_difference() {
    let rust = json!({"schemaVersion": 2});
    // `"Subject":{}`: Go's *Descriptor is non-nil, its members zero.
    let subject = json!({"schemaVersion": 2, "subject": {"mediaType": "", "digest": "", "size": 0, "artifactType": ""}});
    assert_eq!(
        paths(&compare_views("/view", exact(&rust), go(Op::OciManifest, &subject))),
        ["/view/subject"]
    );
    // `"Annotations":{"org.example.flag":""}`: a map against absent.
    let annotations = json!({"schemaVersion": 2, "annotations": {"org.example.flag": ""}});
    assert_eq!(
        paths(&compare_views("/view", exact(&rust), go(Op::OciManifest, &annotations))),
        ["/view/annotations"]
    );
    // An empty map, and an empty slice, against absent.
    let empty_map = json!({"schemaVersion": 2, "annotations": {}});
    assert_eq!(
        paths(&compare_views("/view", exact(&rust), go(Op::OciManifest, &empty_map))),
        ["/view/annotations"]
    );
    let empty_list = json!({"schemaVersion": 2, "layers": []});
    assert_eq!(
        paths(&compare_views("/view", exact(&rust), go(Op::OciManifest, &empty_list))),
        ["/view/layers"]
    );
}

#[test]
fn members_the_table_does_not_know_get_no_equivalence() {
    let c = compare_views("/view", exact(&json!({})), go(Op::OciManifest, &json!({"unknown": ""})));
    assert_eq!(paths(&c), ["/view/unknown"]);
    // No table for a view whose SDK is not the Go SDK.
    let other = Side {
        view: &json!({"mediaType": ""}),
        types: view_type("example.com/other-sdk", Op::OciManifest, Some("image")),
    };
    assert_eq!(paths(&compare_views("/view", exact(&json!({})), other)), ["/view/mediaType"]);
}

#[test]
fn empty_lists_and_nulls_are_not_zero_values() {
    let c = compare_views(
        "/view",
        exact(&json!({"config": {}})),
        go(Op::OciManifest, &json!({"config": {"urls": []}})),
    );
    assert_eq!(paths(&c), ["/view/config/urls"]);
    assert_eq!(paths(&compare_views("/view", exact(&json!({})), exact(&json!({"x": null})))), ["/view/x"]);
    // A present empty string against a non-empty one is a plain difference.
    let (a, b) = (json!({"mediaType": ""}), json!({"mediaType": "b"}));
    assert_eq!(paths(&compare_views("/view", go(Op::OciManifest, &a), exact(&b))), ["/view/mediaType"]);
}

// data-text-is-bytes: a Go []byte against base64 text.

#[test]
fn data_text_matches_decoded_bytes_where_go_holds_bytes() {
    let text = json!({"config": {"data": {"text": "e30="}}});
    let bytes = json!({"config": {"data": {"bytes": "e30="}}});
    let c = compare_views("/view", exact(&text), go(Op::OciManifest, &bytes));
    assert!(c.differences.is_empty());
    assert_eq!(rules(&c), [("/view/config/data", Rule::DataTextIsBytes)]);
    // Different bytes.
    let other = json!({"config": {"data": {"bytes": "e31="}}});
    assert_eq!(
        paths(&compare_views("/view", exact(&text), go(Op::OciManifest, &other))),
        ["/view/config/data"]
    );
    // One step outside: the same labels at a member Go does not hold as []byte.
    let elsewhere =
        (json!({"config": {"urls": {"text": "e30="}}}), json!({"config": {"urls": {"bytes": "e30="}}}));
    let c = compare_views("/view", exact(&elsewhere.0), go(Op::OciManifest, &elsewhere.1));
    assert_eq!(paths(&c), ["/view/config/urls"]);
}

// same-instant: a Go *time.Time printed back, same instant and same offset.

#[test]
fn timestamps_compare_as_instants_with_their_offset() {
    let go_side = go_config;
    let rust = json!({"config": {"created": "2024-01-02T03:04:05.100+01:00"}});
    let go_view = json!({"config": {"created": "2024-01-02T03:04:05.1+01:00"}});
    let c = compare_views("/view", exact(&rust), go_side(&go_view));
    assert!(c.differences.is_empty());
    assert_eq!(rules(&c), [("/view/config/created", Rule::SameInstant)]);
    // History entries are timestamps too.
    let rust = json!({"config": {"history": [{"created": "2024-01-02T02:04:05.000Z"}]}});
    let go_view = json!({"config": {"history": [{"created": "2024-01-02T02:04:05Z"}]}});
    assert_eq!(
        rules(&compare_views("/view", exact(&rust), go_side(&go_view))),
        [("/view/config/history/0/created", Rule::SameInstant)]
    );
    // The same instant at another UTC offset is a change a policy can see.
    let rust = json!({"config": {"created": "2024-01-02T03:04:05+01:00"}});
    let go_view = json!({"config": {"created": "2024-01-02T02:04:05Z"}});
    assert_eq!(paths(&compare_views("/view", exact(&rust), go_side(&go_view))), ["/view/config/created"]);
    // A later instant.
    let later = json!({"config": {"created": "2024-01-02T03:04:06+01:00"}});
    assert_eq!(paths(&compare_views("/view", exact(&rust), go_side(&later))), ["/view/config/created"]);
    // One step outside: a string member that is not a timestamp field.
    let (a, b) = (
        json!({"config": {"author": "2024-01-02T02:04:05Z"}}),
        json!({"config": {"author": "2024-01-02T02:04:05.0Z"}}),
    );
    assert_eq!(paths(&compare_views("/view", exact(&a), go_side(&b))), ["/view/config/author"]);
}

#[test]
fn the_documented_table_lists_every_go_struct() {
    let table = markdown_table();
    for name in [
        "`Manifest`",
        "`Index`",
        "`Descriptor`",
        "`Platform`",
        "`Image`",
        "`ImageConfig`",
        "`RootFS`",
        "`History`",
    ] {
        assert!(table.contains(name), "{name} missing from\n{table}");
    }
    assert!(table.contains("`subject` (*Descriptor)"), "{table}");
}

/// A Rust SDK view of a Kubernetes operation (k8s-openapi types).
fn rust_k8s(op: Op, view: &Value) -> Side<'_> {
    Side { view, types: view_type(RUST_SDK, op, None) }
}

#[test]
fn what_k8s_openapi_cannot_tell_apart_is_forgiven_on_the_rust_side_only() {
    // The host's list items carry no apiVersion or kind; k8s-openapi writes its own. A
    // null creationTimestamp is None in Rust; a null list metadata is ListMeta::default().
    let rust = json!({"apiVersion": "v1", "kind": "NamespaceList", "metadata": {},
        "items": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"},
                   "spec": {"template": {"metadata": {}}}}]});
    let bytes = json!({"items": [{"metadata": {"name": "a"},
                   "spec": {"template": {"metadata": {"creationTimestamp": null}}}}]});
    let c = compare_views("/view", rust_k8s(Op::ListResourcesAll, &rust), exact(&bytes));
    assert_eq!(paths(&c), Vec::<&str>::new());
    assert_eq!(
        rules(&c),
        [
            ("/view/apiVersion", Rule::ImpliedByType),
            ("/view/items/0/apiVersion", Rule::ImpliedByType),
            ("/view/items/0/kind", Rule::ImpliedByType),
            ("/view/items/0/spec/template/metadata/creationTimestamp", Rule::NullIsAbsent),
            ("/view/kind", Rule::ImpliedByType),
            ("/view/metadata", Rule::ZeroValueIsAbsent),
        ]
    );
    // Either argument order; and the same views from two guests without the table differ.
    let swapped = compare_views("/view", exact(&bytes), rust_k8s(Op::ListResourcesAll, &rust));
    assert_eq!(rules(&swapped).len(), 6);
    assert_eq!(compare_views("/view", exact(&rust), exact(&bytes)).differences.len(), 6);
}

#[test]
fn k8s_openapi_equivalences_stop_where_a_value_could_be_seen() {
    let get =
        |rust: &Value, bytes: &Value| compare_views("/view", rust_k8s(Op::GetResource, rust), exact(bytes));
    // A kind the document states otherwise, a null the Rust side shows as {}, a value
    // null on the Rust side too, and a member the Rust side has and the other lacks.
    let c = get(&json!({"kind": "Namespace", "metadata": {}}), &json!({"kind": "Pod", "metadata": null}));
    assert_eq!(paths(&c), ["/view/kind", "/view/metadata"]);
    let c = get(&json!({"metadata": {"labels": {"a": "b"}}}), &json!({"metadata": {}}));
    assert_eq!(paths(&c), ["/view/metadata/labels"]);
    let c = get(&json!({"metadata": {"name": null}}), &json!({"metadata": {}}));
    assert_eq!(paths(&c), ["/view/metadata/name"]);
    // A null in Rust's view (a kind read as JSON) against absence is a difference.
    let c = get(&json!({"spec": null}), &json!({}));
    assert_eq!(paths(&c), ["/view/spec"]);
    // Other operations of the Rust SDK get no table.
    assert!(view_type(RUST_SDK, Op::CanI, None).is_none());
}
