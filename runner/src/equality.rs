//! What counts as equal between two guests' decoded views: the one place this policy
//! lives (docs/decoded-view.md, "Equality").
//!
//! Views are compared structurally, member by member, integers exactly. Three
//! documented equivalences absorb differences of representation that a policy author
//! cannot observe as different data; each one applied is returned, never applied
//! silently. Nothing else is forgiven.

use std::fmt;

use base64::Engine as _;
use chrono::DateTime;
use serde::Serialize;
use serde_json::Value;

/// A documented equivalence between two different view values.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A member absent on one side and holding its zero value (`""`, `0`, `false`, or
    /// an object of such members) on the other: Go's plain fields and struct values
    /// cannot represent absence, so a Go SDK user sees the zero value either way.
    ZeroValueIsAbsent,
    /// Descriptor `data` kept as base64 text by one SDK and decoded to bytes by the
    /// other, where the text decodes to exactly those bytes.
    DataTextIsBytes,
    /// A `created` timestamp kept as text by one SDK and parsed (and printed back in
    /// RFC 3339) by the other, where both denote the same instant.
    SameInstant,
}

impl Rule {
    pub const ALL: [Rule; 3] = [Rule::ZeroValueIsAbsent, Rule::DataTextIsBytes, Rule::SameInstant];

    pub fn name(self) -> &'static str {
        match self {
            Rule::ZeroValueIsAbsent => "zero-value-is-absent",
            Rule::DataTextIsBytes => "data-text-is-bytes",
            Rule::SameInstant => "same-instant",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Rule::ZeroValueIsAbsent => {
                "absent on one side, the zero value (\"\", 0, false, or an object of zero values) on the other"
            }
            Rule::DataTextIsBytes => {
                "descriptor data as base64 text on one side, the same bytes decoded on the other"
            }
            Rule::SameInstant => {
                "a `created` timestamp as text on one side, the same instant printed in RFC 3339 on the other"
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A place where the two views differ. `None` is an absent member.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// JSON Pointer (RFC 6901) into the view.
    pub path: String,
    pub left: Option<Value>,
    pub right: Option<Value>,
}

/// A place where the views differ only as a [`Rule`] allows.
#[derive(Clone, Debug, PartialEq)]
pub struct Equivalence {
    pub path: String,
    pub rule: Rule,
    pub left: Option<Value>,
    pub right: Option<Value>,
}

/// The outcome of comparing two views.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ViewComparison {
    pub differences: Vec<Difference>,
    pub equivalences: Vec<Equivalence>,
}

/// Compares two views; paths are prefixed with `base` (e.g. `/view`).
pub fn compare_views(base: &str, left: &Value, right: &Value) -> ViewComparison {
    let mut out = ViewComparison::default();
    compare(base, Some(left), Some(right), &mut out);
    out
}

fn compare(path: &str, left: Option<&Value>, right: Option<&Value>, out: &mut ViewComparison) {
    if left == right {
        return;
    }
    if let Some(rule) = equivalence(path, left, right) {
        out.equivalences.push(Equivalence {
            path: path.to_string(),
            rule,
            left: left.cloned(),
            right: right.cloned(),
        });
        return;
    }
    match (left, right) {
        // Data recorded under different labels (text / bytes) is compared whole.
        (Some(Value::Object(l)), Some(Value::Object(r))) if !is_data(l) || !is_data(r) => {
            let mut keys: Vec<&String> = l.keys().chain(r.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                compare(&child(path, key), l.get(key), r.get(key), out);
            }
        }
        (Some(Value::Array(l)), Some(Value::Array(r))) if l.len() == r.len() => {
            for (i, (l, r)) in l.iter().zip(r).enumerate() {
                compare(&child(path, &i.to_string()), Some(l), Some(r), out);
            }
        }
        _ => out.differences.push(Difference {
            path: path.to_string(),
            left: left.cloned(),
            right: right.cloned(),
        }),
    }
}

fn equivalence(path: &str, left: Option<&Value>, right: Option<&Value>) -> Option<Rule> {
    match (left, right) {
        (None, Some(v)) | (Some(v), None) if is_zero(v) => Some(Rule::ZeroValueIsAbsent),
        (Some(l), Some(r)) if data_text_is_bytes(l, r) || data_text_is_bytes(r, l) => {
            Some(Rule::DataTextIsBytes)
        }
        (Some(Value::String(l)), Some(Value::String(r)))
            if path.ends_with("/created") && same_instant(l, r) =>
        {
            Some(Rule::SameInstant)
        }
        _ => None,
    }
}

/// Go's zero values: what a Go field holds when the document had nothing for it.
fn is_zero(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_u64() == Some(0) || n.as_i64() == Some(0),
        Value::Bool(b) => !b,
        Value::Object(members) => members.values().all(is_zero),
        Value::Null | Value::Array(_) => false,
    }
}

/// `{"text": T}` against `{"bytes": B}` (decoded-view labels) with base64(T) == B.
fn data_text_is_bytes(text: &Value, bytes: &Value) -> bool {
    let (Some(text), Some(bytes)) = (labelled(text, "text"), labelled(bytes, "bytes")) else {
        return false;
    };
    let engine = base64::engine::general_purpose::STANDARD;
    matches!((engine.decode(text), engine.decode(bytes)), (Ok(t), Ok(b)) if t == b)
}

fn is_data(m: &serde_json::Map<String, Value>) -> bool {
    m.len() == 1 && (m.contains_key("text") || m.contains_key("bytes"))
}

fn labelled<'a>(v: &'a Value, label: &str) -> Option<&'a str> {
    match v {
        Value::Object(m) if m.len() == 1 => m.get(label)?.as_str(),
        _ => None,
    }
}

fn same_instant(l: &str, r: &str) -> bool {
    matches!(
        (DateTime::parse_from_rfc3339(l), DateTime::parse_from_rfc3339(r)),
        (Ok(l), Ok(r)) if l == r
    )
}

/// Appends one reference token to a JSON Pointer, escaped per RFC 6901.
pub fn child(path: &str, token: &str) -> String {
    format!("{path}/{}", token.replace('~', "~0").replace('/', "~1"))
}

#[cfg(test)]
#[path = "equality_tests.rs"]
mod tests;
