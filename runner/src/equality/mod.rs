//! What counts as equal between two guests' decoded views: the one place this policy
//! lives (docs/decoded-view.md, "Equality").
//!
//! Views are compared structurally, member by member, integers exactly. Three
//! documented equivalences absorb differences that a policy author cannot observe,
//! each only where an SDK's types truly cannot tell (the table in [`sdk_types`]) and
//! only on that SDK's side; each one applied is returned, never applied silently.
//! Nothing else is forgiven.

mod sdk_types;

use std::fmt;

use base64::Engine as _;
use chrono::DateTime;
use serde::Serialize;
use serde_json::Value;

pub use sdk_types::{GO_SDK, RUST_SDK, SdkType, markdown_table, view_type};

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
    /// A member absent on one side and holding its zero value on the other, where the
    /// other side's SDK holds it in a type that cannot be absent (a Go plain string,
    /// integer or bool, or a struct held by value, whose members are all zero): a Go
    /// SDK user sees the zero value either way.
    ZeroValueIsAbsent,
    /// Descriptor `data` kept as base64 text by one SDK and decoded to bytes by the
    /// other (a Go `[]byte`), where the text decodes to exactly those bytes.
    DataTextIsBytes,
    /// A timestamp kept as text by one SDK and parsed into a Go `*time.Time` (printed
    /// back in RFC 3339) by the other, where both denote the same instant with the
    /// same UTC offset.
    SameInstant,
    /// `apiVersion` or `kind` absent on one side, present on the Rust side, where the
    /// Rust SDK decoded the object into a k8s-openapi type, which writes them from the
    /// type whatever the document held.
    ImpliedByType,
    /// JSON `null` on one side, absent on the Rust side, where the Rust SDK read the
    /// member into a k8s-openapi `Option`, which reads `null` as `None`.
    NullIsAbsent,
}

impl Rule {
    pub const ALL: [Rule; 5] = [
        Rule::ZeroValueIsAbsent,
        Rule::DataTextIsBytes,
        Rule::SameInstant,
        Rule::ImpliedByType,
        Rule::NullIsAbsent,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rule::ZeroValueIsAbsent => "zero-value-is-absent",
            Rule::DataTextIsBytes => "data-text-is-bytes",
            Rule::SameInstant => "same-instant",
            Rule::ImpliedByType => "implied-by-type",
            Rule::NullIsAbsent => "null-is-absent",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Rule::ZeroValueIsAbsent => {
                "absent on one side, the zero value on the other where that SDK's type cannot be absent (a Go plain string, integer, bool or struct value)"
            }
            Rule::DataTextIsBytes => {
                "descriptor data as base64 text on one side, the same bytes decoded into a Go []byte on the other"
            }
            Rule::SameInstant => {
                "a timestamp as text on one side, the same instant with the same UTC offset printed back from a Go *time.Time on the other"
            }
            Rule::ImpliedByType => {
                "apiVersion or kind absent on one side, on the other written by the Rust SDK's k8s-openapi type, which cannot tell absent from its own value"
            }
            Rule::NullIsAbsent => {
                "null on one side, absent on the Rust side where the Rust SDK read the member into a k8s-openapi Option, which reads null as None"
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

/// One guest's view, with how its SDK's types hold each member where that matters
/// ([`view_type`]; `None`: every member can be absent).
#[derive(Clone, Copy, Debug)]
pub struct Side<'a> {
    pub view: &'a Value,
    pub types: Option<&'static SdkType>,
}

/// Compares two views; paths are prefixed with `base` (e.g. `/view`).
pub fn compare_views(base: &str, left: Side<'_>, right: Side<'_>) -> ViewComparison {
    let mut out = ViewComparison::default();
    compare(base, [Some(left.view), Some(right.view)], [left.types, right.types], &mut out);
    out
}

type Types = [Option<&'static SdkType>; 2];

fn compare(path: &str, [left, right]: [Option<&Value>; 2], types: Types, out: &mut ViewComparison) {
    if left == right {
        return;
    }
    if let Some(rule) = equivalence([left, right], types) {
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
                let types = types.map(|t| t.and_then(|t| t.member(key)));
                compare(&child(path, key), [l.get(key), r.get(key)], types, out);
            }
        }
        (Some(Value::Array(l)), Some(Value::Array(r))) if l.len() == r.len() => {
            let types = types.map(|t| t.and_then(SdkType::element));
            for (i, (l, r)) in l.iter().zip(r).enumerate() {
                compare(&child(path, &i.to_string()), [Some(l), Some(r)], types, out);
            }
        }
        _ => out.differences.push(Difference {
            path: path.to_string(),
            left: left.cloned(),
            right: right.cloned(),
        }),
    }
}

/// The equivalence that makes two different values at one place equal, if any. Each
/// rule is tried with either side as the one whose SDK type it needs.
fn equivalence(values: [Option<&Value>; 2], types: Types) -> Option<Rule> {
    [(0, 1), (1, 0)].into_iter().find_map(|(this, other)| {
        let (this_value, other_value, this_type) = (values[this], values[other], types[this]?);
        match (this_type, this_value, other_value) {
            (t, Some(v), None) if t.zero().as_ref() == Some(v) => Some(Rule::ZeroValueIsAbsent),
            (SdkType::Implied, Some(_), None) => Some(Rule::ImpliedByType),
            (SdkType::Options, None, Some(Value::Null)) => Some(Rule::NullIsAbsent),
            (SdkType::Bytes, Some(bytes), Some(text)) if data_text_is_bytes(text, bytes) => {
                Some(Rule::DataTextIsBytes)
            }
            (SdkType::Time, Some(Value::String(printed)), Some(Value::String(text)))
                if same_instant(text, printed) =>
            {
                Some(Rule::SameInstant)
            }
            _ => None,
        }
    })
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

/// The same instant and the same UTC offset: Go keeps a parsed time's offset and prints
/// it back, so a changed offset is a change a policy can see.
fn same_instant(l: &str, r: &str) -> bool {
    matches!(
        (DateTime::parse_from_rfc3339(l), DateTime::parse_from_rfc3339(r)),
        (Ok(l), Ok(r)) if l == r && l.offset() == r.offset()
    )
}

/// Appends one reference token to a JSON Pointer, escaped per RFC 6901.
pub fn child(path: &str, token: &str) -> String {
    format!("{path}/{}", token.replace('~', "~0").replace('/', "~1"))
}

#[cfg(test)]
mod tests;
