//! Expected divergences: the versioned list of known disagreements between the SDKs
//! (docs/expectations.md), and how a case's result is judged against it.
//!
//! An entry names a case, the SDK versions it applies to, the divergence's signature
//! (each guest's outcome, and which paths differ how), a reason and an upstream link.
//! A divergence that matches its entry is expected; one that no longer happens, or
//! happens differently, or is not listed at all, fails the run.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::case::{CaseError, Level, line_column};
use crate::compare::{Comparison, Verdict};
use crate::guest::GuestRun;
use crate::run::GuestSummary;

/// The file name of the expectations list inside a case folder; never a case file.
pub const FILE_NAME: &str = "expectations.json";

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
    /// SDK (as guests `describe` it) → semver requirement, e.g.
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

/// How a case's result stands against its case file and the expectations list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Judgement {
    /// The guests agree and nothing is listed.
    Agree,
    /// A listed divergence, happening exactly as recorded.
    Expected { reason: Option<String> },
    /// An informational case diverged: shown, never a failure.
    Informational,
    /// A divergence or crash that no applicable entry lists.
    Unlisted,
    /// A listed divergence that happens differently now.
    Changed { recorded: Signature },
    /// A listed divergence that no longer happens: the entry should go.
    Stale,
    /// A runner limit stopped a guest: nothing was proven.
    Inconclusive,
}

impl Judgement {
    pub fn name(&self) -> &'static str {
        match self {
            Judgement::Agree => "agree",
            Judgement::Expected { .. } => "expected",
            Judgement::Informational => "informational",
            Judgement::Unlisted => "unlisted",
            Judgement::Changed { .. } => "changed",
            Judgement::Stale => "stale",
            Judgement::Inconclusive => "inconclusive",
        }
    }

    /// Whether this judgement alone fails the run.
    pub fn fails(&self) -> bool {
        !matches!(self, Judgement::Agree | Judgement::Expected { .. } | Judgement::Informational)
    }
}

/// A loaded expectations list, indexed by case.
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    pub path: Option<PathBuf>,
    by_case: HashMap<String, Expectation>,
}

impl Expectations {
    /// Reads an expectations file; every problem is located by file, line and column.
    pub fn load(path: &Path) -> Result<Expectations, Vec<CaseError>> {
        let error =
            |line, column, message: String| CaseError { path: path.to_path_buf(), line, column, message };
        let text = std::fs::read_to_string(path)
            .map_err(|e| vec![error(0, 0, format!("failed to read the expectations file: {e}"))])?;
        let file: ExpectationsFile =
            serde_json::from_str(&text).map_err(|e| vec![error(e.line(), e.column(), e.to_string())])?;
        let mut errors = Vec::new();
        let mut by_case = HashMap::new();
        for entry in file.expectations {
            let (line, column) = locate_case(&text, &entry.case);
            for (sdk, requirement) in &entry.sdks {
                if let Err(e) = semver::VersionReq::parse(requirement) {
                    errors.push(error(
                        line,
                        column,
                        format!("invalid version range {requirement:?} for {sdk}: {e}"),
                    ));
                }
            }
            if let Some(first) = by_case.insert(entry.case.clone(), entry) {
                errors.push(error(line, column, format!("case {:?} is listed twice", first.case)));
            }
        }
        if errors.is_empty() {
            Ok(Expectations { path: Some(path.to_path_buf()), by_case })
        } else {
            Err(errors)
        }
    }

    pub fn get(&self, case: &str) -> Option<&Expectation> {
        self.by_case.get(case)
    }

    pub fn entries(&self) -> impl Iterator<Item = &Expectation> {
        self.by_case.values()
    }

    /// Entries naming cases that do not exist, located in the file.
    pub fn unknown_cases(&self, case_ids: &HashSet<&str>) -> Vec<CaseError> {
        let Some(path) = &self.path else { return Vec::new() };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut unknown: Vec<&Expectation> =
            self.by_case.values().filter(|e| !case_ids.contains(e.case.as_str())).collect();
        unknown.sort_by(|a, b| a.case.cmp(&b.case));
        unknown
            .into_iter()
            .map(|e| {
                let (line, column) = locate_case(&text, &e.case);
                CaseError {
                    path: path.clone(),
                    line,
                    column,
                    message: format!("expectation names case {:?}, which does not exist", e.case),
                }
            })
            .collect()
    }

    /// Judges one case's comparison against the entry for it, if one applies.
    pub fn judge(
        &self,
        case: &str,
        level: Level,
        comparison: &Comparison,
        runs: &[(String, GuestRun)],
        guests: &[GuestSummary],
    ) -> Judgement {
        let entry = self.get(case).filter(|e| applies(e, guests));
        let diverged = matches!(comparison.verdict, Verdict::Diverge | Verdict::Crash);
        match (comparison.verdict, entry) {
            (Verdict::Inconclusive, _) => Judgement::Inconclusive,
            (Verdict::Agree, None) => Judgement::Agree,
            (Verdict::Agree, Some(_)) => Judgement::Stale,
            _ if diverged && level == Level::Informational => Judgement::Informational,
            (_, None) => Judgement::Unlisted,
            (_, Some(e)) if e.signature == signature(comparison, runs) => {
                Judgement::Expected { reason: e.reason.clone() }
            }
            (_, Some(e)) => Judgement::Changed { recorded: e.signature.clone() },
        }
    }
}

/// Whether an entry applies to a run: its signature names exactly the run's guests,
/// and its version ranges admit their SDK versions.
pub fn applies(entry: &Expectation, guests: &[GuestSummary]) -> bool {
    let same_guests = entry.signature.outcomes.len() == guests.len()
        && guests.iter().all(|g| entry.signature.outcomes.contains_key(&g.name));
    same_guests
        && guests.iter().all(|g| match entry.sdks.get(&g.sdk) {
            None => true,
            Some(requirement) => {
                let version = semver::Version::parse(g.sdk_version.trim_start_matches('v'));
                let requirement = semver::VersionReq::parse(requirement);
                matches!((version, requirement), (Ok(v), Ok(r)) if r.matches(&v))
            }
        })
}

/// The signature of a comparison.
pub fn signature(comparison: &Comparison, runs: &[(String, GuestRun)]) -> Signature {
    let outcomes = runs
        .iter()
        .map(|(name, run)| {
            let label = match (&run.outcome, run.outcome.kind()) {
                (crate::guest::Outcome::EngineError(f), _) => format!("engine-error/{}", f.kind()),
                (o, Some(kind)) => format!("{}/{kind}", o.class()),
                (o, None) => o.class().to_string(),
            };
            (name.clone(), label)
        })
        .collect();
    let diffs = comparison
        .diffs
        .iter()
        .map(|d| PathSignature {
            path: d.path.clone(),
            values: d.values.iter().map(|(name, v)| (name.clone(), shape(&d.path, v.as_ref()))).collect(),
        })
        .collect();
    Signature { outcomes, diffs }
}

fn shape(path: &str, value: Option<&Value>) -> String {
    match value {
        None => "absent".into(),
        Some(Value::String(s)) if path == "/outcome" || path == "/kind" => s.clone(),
        Some(Value::Null) => "null".into(),
        Some(Value::String(_)) => "string".into(),
        Some(Value::Number(_)) => "number".into(),
        Some(Value::Bool(_)) => "bool".into(),
        Some(Value::Array(_)) => "array".into(),
        Some(Value::Object(_)) => "object".into(),
    }
}

/// The 1-based line and column of `"case": "<id>"` in the file, or (1, 1).
fn locate_case(text: &str, case: &str) -> (usize, usize) {
    let needle = serde_json::to_string(case).unwrap_or_default();
    let found =
        text.find(&format!("\"case\": {needle}")).or_else(|| text.find(&format!("\"case\":{needle}")));
    found.map_or((1, 1), |at| line_column(text, at))
}

/// What `kwconform expectations update` changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateSummary {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
    /// Entries whose `reason` is still `null`.
    pub needing_reason: Vec<String>,
}

/// Rewrites the list from a report: every diverging or crashing required case gets an
/// entry with its current signature (keeping an existing entry's reason, link and
/// version ranges); entries of cases that now agree go. Cases the report does not
/// cover keep their entries untouched. New entries apply from the current SDK
/// releases on and have no reason yet.
pub fn update(
    existing: &ExpectationsFile,
    results: &[crate::report::ResultEntry],
    guests: &[crate::report::GuestEntry],
) -> (ExpectationsFile, UpdateSummary) {
    let mut entries: BTreeMap<String, Expectation> =
        existing.expectations.iter().map(|e| (e.case.clone(), e.clone())).collect();
    let mut summary = UpdateSummary::default();
    for result in results {
        let diverged = matches!(result.verdict, Verdict::Diverge | Verdict::Crash);
        match (diverged && result.level == Level::Required, entries.get_mut(&result.case)) {
            (true, Some(entry)) if entry.signature != result.signature => {
                entry.signature = result.signature.clone();
                summary.changed.push(result.case.clone());
            }
            (true, Some(_)) => {}
            (true, None) => {
                let sdks = guests
                    .iter()
                    .map(|g| (g.sdk.clone(), format!(">={}", g.sdk_version.trim_start_matches('v'))))
                    .collect();
                let entry = Expectation {
                    case: result.case.clone(),
                    sdks,
                    signature: result.signature.clone(),
                    reason: None,
                    upstream: None,
                };
                entries.insert(result.case.clone(), entry);
                summary.added.push(result.case.clone());
            }
            (false, Some(_)) if result.verdict == Verdict::Agree || result.level == Level::Informational => {
                entries.remove(&result.case);
                summary.removed.push(result.case.clone());
            }
            (false, _) => {}
        }
    }
    summary.needing_reason =
        entries.values().filter(|e| e.reason.is_none()).map(|e| e.case.clone()).collect();
    (ExpectationsFile { expectations: entries.into_values().collect() }, summary)
}
