use serde_json::json;

use super::*;

fn paths(c: &ViewComparison) -> Vec<&str> {
    c.differences.iter().map(|d| d.path.as_str()).collect()
}

#[test]
fn identical_views_have_no_differences() {
    let v = json!({"schemaVersion": 2, "layers": [{"size": 1}]});
    assert_eq!(compare_views("/view", &v, &v), ViewComparison::default());
}

#[test]
fn differences_are_reported_at_the_deepest_path() {
    let l = json!({"manifests": [{"platform": {"os": "linux", "os.version": "10.0"}}]});
    let r = json!({"manifests": [{"platform": {"os": "windows", "os.version": "10.0"}}]});
    let c = compare_views("/view", &l, &r);
    assert_eq!(paths(&c), ["/view/manifests/0/platform/os"]);
    assert_eq!(c.differences[0].left, Some(json!("linux")));
    assert_eq!(c.differences[0].right, Some(json!("windows")));
}

#[test]
fn a_member_present_only_on_one_side_is_a_difference_with_absent() {
    let c = compare_views("/view", &json!({}), &json!({"os.version": "10.0.17763"}));
    assert_eq!(
        c.differences,
        [Difference { path: "/view/os.version".into(), left: None, right: Some(json!("10.0.17763")) }]
    );
}

#[test]
fn json_pointer_tokens_are_escaped() {
    let c = compare_views("/view", &json!({"a/b~c": 1}), &json!({"a/b~c": 2}));
    assert_eq!(paths(&c), ["/view/a~1b~0c"]);
}

#[test]
fn arrays_of_different_length_differ_as_a_whole() {
    let c = compare_views("/view", &json!({"layers": [1, 2]}), &json!({"layers": [1]}));
    assert_eq!(paths(&c), ["/view/layers"]);
}

#[test]
fn integers_are_compared_exactly_beyond_2_pow_53() {
    let l = json!({"size": 9007199254740993_u64});
    let r = json!({"size": 9007199254740992_u64});
    assert_eq!(paths(&compare_views("/view", &l, &r)), ["/view/size"]);
    let max = json!({"size": u64::MAX});
    assert!(compare_views("/view", &max, &max).differences.is_empty());
    // i64::MAX held as i64 by one SDK and as u64 by the other is the same number.
    let (signed, unsigned) = (json!({"size": i64::MAX}), json!({"size": i64::MAX as u64}));
    assert!(compare_views("/view", &signed, &unsigned).differences.is_empty());
}

#[test]
fn zero_values_are_equivalent_to_absence_and_say_so() {
    let l = json!({"config": {"User": "x"}});
    let r =
        json!({"config": {"User": "x", "WorkingDir": "", "ArgsEscaped": false}, "author": "", "variant": ""});
    let c = compare_views("/view", &l, &r);
    assert!(c.differences.is_empty());
    let rules: Vec<(&str, Rule)> = c.equivalences.iter().map(|e| (e.path.as_str(), e.rule)).collect();
    assert_eq!(
        rules,
        [
            ("/view/author", Rule::ZeroValueIsAbsent),
            ("/view/config/ArgsEscaped", Rule::ZeroValueIsAbsent),
            ("/view/config/WorkingDir", Rule::ZeroValueIsAbsent),
            ("/view/variant", Rule::ZeroValueIsAbsent),
        ]
    );
}

#[test]
fn an_absent_object_is_equivalent_to_an_object_of_zero_values_only() {
    let zero = json!({"config": {"User": "", "ArgsEscaped": false}});
    assert!(compare_views("/view", &json!({}), &zero).differences.is_empty());
    let not_zero = json!({"config": {"User": "root"}});
    assert_eq!(paths(&compare_views("/view", &json!({}), &not_zero)), ["/view/config"]);
}

#[test]
fn empty_lists_and_nulls_are_not_zero_values() {
    assert_eq!(paths(&compare_views("/view", &json!({}), &json!({"urls": []}))), ["/view/urls"]);
    assert_eq!(paths(&compare_views("/view", &json!({}), &json!({"x": null}))), ["/view/x"]);
    // A present empty string against a non-empty one is a plain difference.
    assert_eq!(paths(&compare_views("/view", &json!({"a": ""}), &json!({"a": "b"}))), ["/view/a"]);
}

#[test]
fn data_text_matches_decoded_bytes() {
    let text = json!({"data": {"text": "e30="}});
    let bytes = json!({"data": {"bytes": "e30="}});
    let c = compare_views("/view", &text, &bytes);
    assert!(c.differences.is_empty());
    assert_eq!(c.equivalences[0].rule, Rule::DataTextIsBytes);
    // Non-canonical text that decodes to the same bytes is still the same data.
    let other = json!({"data": {"bytes": "e31="}});
    assert_eq!(paths(&compare_views("/view", &text, &other)), ["/view/data"]);
}

#[test]
fn created_timestamps_compare_as_instants() {
    let l = json!({"created": "2024-01-02T03:04:05.100+01:00"});
    let r = json!({"created": "2024-01-02T02:04:05.1Z"});
    let c = compare_views("/view", &l, &r);
    assert!(c.differences.is_empty());
    assert_eq!(c.equivalences[0].rule, Rule::SameInstant);
    let later = json!({"created": "2024-01-02T02:04:06Z"});
    assert_eq!(paths(&compare_views("/view", &l, &later)), ["/view/created"]);
    // Only `created` members are timestamps.
    let (a, b) = (json!({"author": "2024-01-02T02:04:05Z"}), json!({"author": "2024-01-02T03:04:05+01:00"}));
    assert_eq!(paths(&compare_views("/view", &a, &b)), ["/view/author"]);
}
