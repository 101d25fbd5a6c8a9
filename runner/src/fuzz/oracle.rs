//! The oracle: runs host responses through every guest with the same comparison as
//! `run`, and describes a disagreement: its symptom (what differs) and, once found, its
//! class (what caused it, with the outcomes it gives).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::case::{Case, HostResponse, Op};
use crate::compare::Verdict;
use crate::expectations::{self, Signature};
use crate::run::{CaseResult, Runner};

/// What a disagreement looks like: the signature of a comparison with array indices
/// folded (`/view/manifests/*/platform/os.version`). Many causes can show the same
/// symptom, and one cause shows many symptoms; classes are keyed by cause
/// ([`Class`]), symptoms only check that a shrink keeps what was found.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Symptom {
    pub op: Op,
    /// Guest name → outcome, as in an expectations signature.
    pub outcomes: Vec<(String, String)>,
    /// Folded path → guest name → value shape.
    pub diffs: BTreeSet<Diff>,
    /// Guest name → the SDK's error message with every run of digits as `#` (positions
    /// and values aside, what the decoder complained about): shrinking keeps it, so a
    /// saved input fails for the reason the found one did, not for another reason with
    /// the same outcomes.
    pub errors: Vec<(String, String)>,
}

/// A folded path with each guest's value shape there.
pub type Diff = (String, Vec<(String, String)>);

impl Symptom {
    /// The symptom of a comparison's signature; `errors` as [`Symptom::errors`] says.
    pub fn of(op: Op, signature: &Signature, errors: Vec<(String, String)>) -> Symptom {
        let diffs = signature
            .diffs
            .iter()
            .map(|d| (fold_indices(&d.path), d.values.iter().map(|(g, v)| (g.clone(), v.clone())).collect()))
            .collect();
        Symptom { op, outcomes: signature.outcomes.clone().into_iter().collect(), diffs, errors }
    }

    /// `go error, rust ok/image at /outcome`.
    pub fn summary(&self) -> String {
        let paths: Vec<&str> = self.diffs.iter().map(|(p, _)| p.as_str()).collect();
        format!("{} at {}", outcome_pattern(&self.outcomes), paths.join(", "))
    }
}

/// `go error, rust ok/image`.
fn outcome_pattern(outcomes: &[(String, String)]) -> String {
    outcomes.iter().map(|(g, o)| format!("{g} {o}")).collect::<Vec<_>>().join(", ")
}

/// What made an input disagree (docs/fuzzing.md, "Causes").
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Cause {
    /// The smallest set of mutation operators (sorted, parameters included, targets
    /// not) that still gives the disagreement. For a class a runner limit stopped, the
    /// input's operators as they were: each try could cost the whole deadline, so they
    /// are not minimised.
    Mutations { operators: Vec<String> },
    /// A generated, unmutated document already disagrees: the fields that differ and
    /// each guest's value shape there.
    Generated { diffs: BTreeSet<Diff> },
}

impl Cause {
    /// `key-case + null`, or `generated: /view/os.version (go string, rust absent)`.
    pub fn label(&self) -> String {
        match self {
            Cause::Mutations { operators } => operators.join(" + "),
            Cause::Generated { diffs } => {
                let diffs: Vec<String> = diffs
                    .iter()
                    .map(|(path, values)| {
                        let values: Vec<String> = values.iter().map(|(g, v)| format!("{g} {v}")).collect();
                        format!("{path} ({})", values.join(", "))
                    })
                    .collect();
                format!("generated: {}", diffs.join("; "))
            }
        }
    }
}

/// A class of findings: one cause with the outcomes it gives on one operation. A new
/// cause at a path another cause already showed is a new class; a known cause at a new
/// path is not.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Class {
    pub op: Op,
    pub cause: Cause,
    /// Guest name → outcome, as in an expectations signature.
    pub outcomes: Vec<(String, String)>,
}

impl Class {
    /// A short stable name: the first 12 hex digits of the class's SHA-256.
    pub fn id(&self) -> String {
        let json = serde_json::to_vec(self).expect("a class serialises");
        Sha256::digest(json).iter().take(6).map(|b| format!("{b:02x}")).collect()
    }

    /// `key-case → go ok/image, rust ok/image`.
    pub fn summary(&self) -> String {
        format!("{} → {}", self.cause.label(), outcome_pattern(&self.outcomes))
    }
}

/// The classes a campaign need not save again: those saved before (by id) and those
/// this campaign has seen.
#[derive(Clone, Debug, Default)]
pub struct Covered {
    ids: HashSet<String>,
}

impl Covered {
    pub fn add(&mut self, class: &Class) {
        self.ids.insert(class.id());
    }

    /// Marks a class id as covered (a saved case's tag).
    pub fn add_id(&mut self, id: String) {
        self.ids.insert(id);
    }

    pub fn covers(&self, class: &Class) -> bool {
        self.contains_id(&class.id())
    }

    /// Whether a class id (a response class's, or a request symptom's) is covered.
    pub fn contains_id(&self, id: &str) -> bool {
        self.ids.contains(id)
    }
}

/// `line 1 column 245` → `line # column #`.
fn without_digits(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('#') {
            out.push('#');
        }
    }
    out
}

fn fold_indices(path: &str) -> String {
    path.split('/')
        .map(|t| if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) { "*" } else { t })
        .collect::<Vec<_>>()
        .join("/")
}

/// What one input did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Evaluation {
    /// The guests agree.
    Agree,
    /// A runner limit stopped a guest: nothing was compared. The limits hit, e.g.
    /// `timeout`, and the outcomes.
    Inconclusive(Vec<&'static str>, Symptom),
    /// A disagreement or a crash.
    Differ(Symptom),
}

impl Evaluation {
    /// What a finding looks like; `None` when the guests agree.
    pub fn symptom(&self) -> Option<&Symptom> {
        match self {
            Evaluation::Agree => None,
            Evaluation::Inconclusive(_, symptom) | Evaluation::Differ(symptom) => Some(symptom),
        }
    }
}

/// Runs `bytes` as the host's answer to `op` through every guest, in fresh instances.
pub fn evaluate(runner: &Runner, op: Op, bytes: &[u8]) -> Evaluation {
    observe(runner, op, bytes).0
}

/// Runs many inputs at once, the way the runner executes (batched, on every core); the
/// evaluations come back in input order.
pub fn evaluate_all(runner: &Runner, inputs: &[(Op, Vec<u8>)]) -> Vec<Evaluation> {
    observe_all(runner, inputs).into_iter().map(|(evaluation, _)| evaluation).collect()
}

/// Per guest, the sites of decoding code its instance ran ([`super::coverage`]); empty
/// for guests that are not instrumented. In a batch, an instance's sites are those of
/// every input it served: the same `Arc` for each of them.
pub type Coverage = Vec<(String, Arc<Vec<u32>>)>;

/// [`evaluate`], with the coverage of the input alone.
pub fn observe(runner: &Runner, op: Op, bytes: &[u8]) -> (Evaluation, Coverage) {
    let result = runner.run_case(&input_case(op, bytes));
    let coverage = coverage(&result);
    (classify(result), coverage)
}

/// [`evaluate_all`], with each input's coverage (its instance's, in a batch).
pub fn observe_all(runner: &Runner, inputs: &[(Op, Vec<u8>)]) -> Vec<(Evaluation, Coverage)> {
    let cases: Vec<Case> = inputs.iter().map(|(op, bytes)| input_case(*op, bytes)).collect();
    runner
        .run_collect(&cases)
        .results
        .into_iter()
        .map(|result| {
            let coverage = coverage(&result);
            (classify(result), coverage)
        })
        .collect()
}

fn coverage(result: &CaseResult) -> Coverage {
    result
        .runs
        .iter()
        .filter_map(|(guest, run)| Some((guest.clone(), run.invocation.coverage.clone()?)))
        .collect()
}

/// An input as a case: the host answers `op` with `bytes`.
fn input_case(op: Op, bytes: &[u8]) -> Case {
    Case::fuzz_input("fuzz-input", op, super::generate::input(op), HostResponse::Success(bytes.to_vec()))
}

fn classify(result: CaseResult) -> Evaluation {
    let errors = || {
        result
            .runs
            .iter()
            .filter_map(|(guest, run)| match &run.outcome {
                crate::guest::Outcome::Error { message } => Some((guest.clone(), without_digits(message))),
                _ => None,
            })
            .collect()
    };
    let symptom =
        || Symptom::of(result.case.op, &expectations::signature(&result.comparison, &result.runs), errors());
    match result.comparison.verdict {
        Verdict::Agree => Evaluation::Agree,
        Verdict::Inconclusive => Evaluation::Inconclusive(
            result
                .runs
                .iter()
                .filter_map(|(_, run)| match &run.outcome {
                    crate::guest::Outcome::EngineError(f) if f.is_runner_limit() => Some(f.kind()),
                    _ => None,
                })
                .collect(),
            symptom(),
        ),
        Verdict::Diverge | Verdict::Crash => Evaluation::Differ(symptom()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(operators: &[&str], outcomes: &[(&str, &str)]) -> Class {
        Class {
            op: Op::OciManifest,
            cause: Cause::Mutations { operators: operators.iter().map(|o| o.to_string()).collect() },
            outcomes: outcomes.iter().map(|(g, o)| (g.to_string(), o.to_string())).collect(),
        }
    }

    #[test]
    fn a_class_is_its_cause_and_outcomes_not_its_paths() {
        let ok = [("go", "ok/image"), ("rust", "ok/image")];
        let mut covered = Covered::default();
        covered.add(&class(&["key-case"], &ok));
        assert!(covered.covers(&class(&["key-case"], &ok)));
        // Another cause with the same outcomes (so possibly at the same paths) is new.
        assert!(!covered.covers(&class(&["key-lookalike"], &ok)));
        // The same cause with other outcomes is new.
        assert!(!covered.covers(&class(&["key-case"], &[("go", "ok/image"), ("rust", "error")])));
        assert_eq!(
            class(&["key-case", "null"], &ok).summary(),
            "key-case + null → go ok/image, rust ok/image"
        );
    }

    #[test]
    fn a_generated_cause_names_the_fields_that_differ() {
        let cause = Cause::Generated {
            diffs: [(
                "/view/manifests/*/platform/os.version".to_string(),
                vec![("go".to_string(), "string".to_string()), ("rust".to_string(), "absent".to_string())],
            )]
            .into(),
        };
        assert_eq!(
            cause.label(),
            "generated: /view/manifests/*/platform/os.version (go string, rust absent)"
        );
    }

    #[test]
    fn error_messages_lose_their_numbers() {
        assert_eq!(
            without_digits("invalid value: integer `-1`, expected u64 at line 1 column 245"),
            "invalid value: integer `-#`, expected u# at line # column #"
        );
    }

    #[test]
    fn indices_fold_and_nothing_else() {
        assert_eq!(
            fold_indices("/view/manifests/12/platform/os.version"),
            "/view/manifests/*/platform/os.version"
        );
        assert_eq!(fold_indices("/outcome"), "/outcome");
        assert_eq!(fold_indices("/view/annotations/1a"), "/view/annotations/1a");
    }
}
