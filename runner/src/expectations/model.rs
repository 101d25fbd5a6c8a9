//! The expectations file as written (docs/expectations.md, docs/expectations.schema.json).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectationsFile {
    /// The root causes the entries point at, each explained once.
    #[serde(default)]
    pub causes: Vec<Cause>,
    pub expectations: Vec<Expectation>,
}

/// One root cause of divergences: one SDK behaviour (a decoder rule, a type choice)
/// that explains every entry pointing at it, whatever path it shows at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cause {
    /// A short stable name, e.g. `go-case-insensitive-keys`.
    pub id: String,
    /// One line: what differs.
    pub title: String,
    /// Why, from the SDK sources (types, functions, fields).
    pub reason: String,
    /// The guests whose SDK's behaviour is the source.
    pub sdks: Vec<String>,
    pub spec: CauseSpec,
    /// An upstream issue or pull request, where one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
}

/// What the specifications say about a cause.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CauseSpec {
    /// Which SDK does what the specification says, where one decides: `rust`, `go`,
    /// `both`, `neither`; `null` when no specification decides.
    pub follows: Option<String>,
    /// The clause it rests on (document, section, words).
    pub clause: Option<String>,
}

/// One known divergence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The case id.
    pub case: String,
    /// SDK name (as guests `describe` it) → semver requirement, e.g.
    /// `{"kubewarden-policy-sdk": ">=0.17.3"}`. The entry applies to a run when every
    /// guest whose SDK is named here has a version that matches.
    pub sdks: BTreeMap<String, String>,
    pub signature: Signature,
    /// The ids of the causes that explain the divergence, the main one first; empty
    /// marks an entry that still needs one.
    pub causes: Vec<String>,
    /// What this case adds to its causes' reasons (which member, what each SDK got).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What a divergence looks like, independent of the exact values: each guest's
/// outcome, and for each differing path the shape of each guest's value there.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// Guest name → `ok/<kind>`, `ok`, `error`, `engine-error/<kind>`.
    pub outcomes: BTreeMap<String, String>,
    pub diffs: Vec<PathSignature>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathSignature {
    pub path: String,
    /// Guest name → the value at `/outcome` and `/kind`; elsewhere its shape:
    /// `absent`, `string`, `number`, `bool`, `array`, `object`.
    pub values: BTreeMap<String, String>,
}
