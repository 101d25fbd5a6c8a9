//! The oracle: runs one host response through every guest with the same comparison as
//! `run`, and names the class of a disagreement.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::case::{Case, HostResponse, Level, Op, Origin};
use crate::compare::Verdict;
use crate::expectations::{self, Signature};
use crate::run::{CaseResult, Runner};

/// A divergence class: the signature of a disagreement with array indices folded
/// (`/view/manifests/*/platform/os.version`), so one behaviour is one class however
/// many entries a document has.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Class {
    pub op: Op,
    /// Guest name → outcome, as in an expectations signature.
    pub outcomes: Vec<(String, String)>,
    /// Folded path → guest name → value shape.
    pub diffs: BTreeSet<(String, Vec<(String, String)>)>,
}

impl Class {
    pub fn of(op: Op, signature: &Signature) -> Class {
        let diffs = signature
            .diffs
            .iter()
            .map(|d| (fold_indices(&d.path), d.values.iter().map(|(g, v)| (g.clone(), v.clone())).collect()))
            .collect();
        Class { op, outcomes: signature.outcomes.clone().into_iter().collect(), diffs }
    }

    /// A short stable name: the first 12 hex digits of the class's SHA-256.
    pub fn id(&self) -> String {
        let json = serde_json::to_vec(self).expect("a class serialises");
        Sha256::digest(json).iter().take(6).map(|b| format!("{b:02x}")).collect()
    }

    /// `rust ok/image, go error at /outcome`.
    pub fn summary(&self) -> String {
        let outcomes: Vec<String> = self.outcomes.iter().map(|(g, o)| format!("{g} {o}")).collect();
        let paths: Vec<&str> = self.diffs.iter().map(|(p, _)| p.as_str()).collect();
        format!("{} at {}", outcomes.join(", "), paths.join(", "))
    }
}

/// The classes a campaign need not save again. A class is covered when it was seen
/// before, or when each of its differing paths, with the same outcomes, was: a
/// document that shows two known behaviours at once shows nothing new.
#[derive(Clone, Debug, Default)]
pub struct Covered {
    ids: HashSet<String>,
    atoms: HashSet<String>,
}

impl Covered {
    pub fn add(&mut self, class: &Class) {
        self.ids.insert(class.id());
        self.atoms.extend(atoms(class));
    }

    /// Marks a class id as covered without knowing its paths (a saved case's tag).
    pub fn add_id(&mut self, id: String) {
        self.ids.insert(id);
    }

    /// A class with no differing paths (every guest crashed) is covered only by its id.
    pub fn covers(&self, class: &Class) -> bool {
        let atoms = atoms(class);
        self.ids.contains(&class.id()) || (!atoms.is_empty() && atoms.iter().all(|a| self.atoms.contains(a)))
    }
}

/// One differing path of a class, with the class's operation and outcomes.
fn atoms(class: &Class) -> Vec<String> {
    let outcomes = serde_json::to_string(&class.outcomes).expect("outcomes serialise");
    class
        .diffs
        .iter()
        .map(|diff| {
            format!("{}|{outcomes}|{}", class.op, serde_json::to_string(diff).expect("a diff serialises"))
        })
        .collect()
}

fn fold_indices(path: &str) -> String {
    path.split('/')
        .map(|t| if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) { "*" } else { t })
        .collect::<Vec<_>>()
        .join("/")
}

/// What one input did.
pub enum Evaluation {
    /// The guests agree.
    Agree,
    /// A runner limit stopped a guest: nothing was compared. The limits hit, e.g.
    /// `timeout`.
    Inconclusive(Vec<&'static str>),
    /// A disagreement or a crash, of this class.
    Differ(Class, Box<CaseResult>),
}

/// The image reference every fuzz input is fetched for.
pub const IMAGE: &str = "ghcr.io/kubewarden/tests/fuzz:latest";

/// Runs `bytes` as the host's answer to `op` through every guest, in fresh instances.
pub fn evaluate(runner: &Runner, op: Op, bytes: &[u8]) -> Evaluation {
    classify(runner.run_case(&input_case(op, bytes)))
}

/// Runs many inputs at once, the way the runner executes (batched, on every core); the
/// evaluations come back in input order.
pub fn evaluate_all(runner: &Runner, inputs: &[(Op, Vec<u8>)]) -> Vec<Evaluation> {
    let cases: Vec<Case> = inputs.iter().map(|(op, bytes)| input_case(*op, bytes)).collect();
    runner.run_collect(&cases).results.into_iter().map(classify).collect()
}

/// An input as a case: the host answers `op` with `bytes`.
fn input_case(op: Op, bytes: &[u8]) -> Case {
    Case {
        id: "fuzz-input".into(),
        description: String::new(),
        op,
        image: IMAGE.into(),
        response: HostResponse::Success(bytes.to_vec()),
        origin: Origin::Fuzz,
        provenance: None,
        spec: None,
        tags: Vec::new(),
        level: Level::Required,
        expect: None,
        source: "fuzz".into(),
    }
}

fn classify(result: CaseResult) -> Evaluation {
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
        ),
        Verdict::Diverge | Verdict::Crash => {
            let signature = expectations::signature(&result.comparison, &result.runs);
            Evaluation::Differ(Class::of(result.case.op, &signature), Box::new(result))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(paths: &[&str]) -> Class {
        let shapes =
            vec![("go".to_string(), "string".to_string()), ("rust".to_string(), "absent".to_string())];
        Class {
            op: Op::OciManifest,
            outcomes: vec![("go".into(), "ok/index".into()), ("rust".into(), "ok/index".into())],
            diffs: paths.iter().map(|p| (p.to_string(), shapes.clone())).collect(),
        }
    }

    #[test]
    fn a_combination_of_covered_paths_is_covered() {
        let mut covered = Covered::default();
        covered.add(&class(&["/view/manifests/*/platform/os.version"]));
        covered.add(&class(&["/view/manifests/*/platform/features"]));
        assert!(covered.covers(&class(&[
            "/view/manifests/*/platform/features",
            "/view/manifests/*/platform/os.version"
        ])));
        assert!(!covered.covers(&class(&["/view/manifests/*/platform/os.version", "/view/subject"])));
        let mut by_id = Covered::default();
        by_id.add_id(class(&["/view/subject"]).id());
        assert!(by_id.covers(&class(&["/view/subject"])));
    }

    #[test]
    fn a_class_without_differing_paths_is_new_until_seen() {
        // Both guests crash: nothing differs, yet it is a finding.
        let crash = Class {
            op: Op::OciManifest,
            outcomes: vec![
                ("go".into(), "engine-error/trap".into()),
                ("rust".into(), "engine-error/trap".into()),
            ],
            diffs: Default::default(),
        };
        let mut covered = Covered::default();
        covered.add(&class(&["/view/subject"]));
        assert!(!covered.covers(&crash));
        covered.add(&crash);
        assert!(covered.covers(&crash));
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
