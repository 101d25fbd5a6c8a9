//! The expectations file as written (docs/expectations.md, docs/expectations.schema.json).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectationsFile {
    pub expectations: Vec<Expectation>,
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
    /// Why the SDKs differ here; `null` marks an entry that still needs one.
    pub reason: Option<String>,
    /// An upstream issue or pull request, where one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
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
