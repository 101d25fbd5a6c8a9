//! Request-side fuzzing (docs/fuzzing.md, "Requests"): for the operations that take
//! inputs, the fuzzer chooses the inputs (strings from a vocabulary aimed at JSON
//! encoders and at the SDKs' parameter types, lists absent, `null`, empty or longer,
//! optional members dropped), the host answers with a spec-valid response, and every
//! symptom not seen before (outcomes and differing paths, the request as the host
//! decoded it included) is shrunk by proptest and saved as a case.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::campaign::{Budget, FuzzOptions};
use super::oracle::{Covered, Symptom};
use super::save::CLASS_TAG;
use crate::case::{
    Case, CaseFile, Expect, HostResponse, Input, Level, Op, Origin, Provenance, ResponseSpec, write_case_file,
};
use crate::compare::Verdict;
use crate::fs::WriteError;
use crate::run::{CaseResult, Runner};

/// Strings that JSON encoders and the SDKs' parameter types treat differently: empty,
/// HTML-special (Go escapes `<>&`), control characters, U+2028, Latin-1 (one byte apart
/// between UTF-8 and a Go `[]rune`), above U+00FF, astral, long.
const STRINGS: &[&str] = &[
    "",
    " ",
    "a<b>&c",
    "tab\there\nnewline",
    "nul\u{0}byte",
    "line\u{2028}separator",
    "é",
    "€",
    "🦀",
    "\u{7f}\u{80}\u{ff}",
    "ghcr.io/kubewarden/policy-server:v1.13.0",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
];

const INPUTS_PER_OP_AND_CHUNK: usize = 8;

/// One symptom the campaign met.
#[derive(Clone, Debug, Serialize)]
pub struct RequestFinding {
    /// `req-<hash of op and symptom>`: the class tag of its saved case.
    pub id: String,
    pub op: Op,
    pub symptom: String,
    pub hits: u64,
    /// Covered by a saved case (or seen earlier in this campaign): counted, not saved.
    pub known: bool,
    pub case: Option<String>,
    pub path: Option<PathBuf>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct RequestSummary {
    pub inputs: u64,
    /// Inputs that were not valid inputs of their operation (a required member dropped).
    pub invalid: u64,
    /// Findings of a batch that fresh instances did not show again: not saved.
    pub batch_unstable: u64,
    pub findings: Vec<RequestFinding>,
}

/// Fuzzes the inputs of `options.ops` (the OCI operations' image too) for its budget;
/// new symptoms are saved under `options.out` as `<op>/<id>.json`, id `fuzz/<op>/<id>`.
pub fn fuzz_requests(
    runner: &Runner,
    options: &FuzzOptions,
    covered: &Covered,
    stop: &AtomicBool,
    mut on_saved: impl FnMut(&RequestFinding),
) -> Result<RequestSummary, WriteError> {
    let FuzzOptions { ops, budget, seed, out, command, max_shrink_steps } = options;
    let (budget, seed) = (*budget, *seed);
    let mut rng = TestRunner::new_with_rng(
        Config { failure_persistence: None, ..Config::default() },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(seed)),
    );
    let started = Instant::now();
    let mut summary = RequestSummary::default();
    let mut findings: BTreeMap<String, RequestFinding> = BTreeMap::new();
    let done = |inputs: u64| match budget {
        Budget::Inputs(n) => inputs >= n,
        Budget::Time(t) => started.elapsed() >= t,
    };
    let strategies: Vec<(Op, BoxedStrategy<Value>, HostResponse)> =
        ops.iter().map(|&op| (op, inputs(op), response(op))).collect();
    while !done(summary.inputs) && !stop.load(Ordering::Relaxed) {
        // One chunk holds inputs of every operation, so a short campaign reaches them all.
        let mut trees = Vec::new();
        let mut cases = Vec::new();
        for (op, strategy, response) in &strategies {
            for _ in 0..INPUTS_PER_OP_AND_CHUNK {
                let tree = strategy.new_tree(&mut rng).expect("input strategies always generate");
                summary.inputs += 1;
                match as_case(*op, tree.current(), response, cases.len()) {
                    Some(case) => {
                        cases.push(case);
                        trees.push(Some(tree));
                    }
                    None => summary.invalid += 1,
                }
            }
        }
        // An interrupted run returns fewer results: each is matched to its input by id.
        for result in runner.run_collect(&cases).results {
            let Some(symptom) = symptom_of(&result) else { continue };
            let Some(tree) = cases.iter().position(|c| c.id == result.case.id).and_then(|i| trees[i].take())
            else {
                continue;
            };
            let op = result.case.op;
            let response = &result.case.response;
            let id = class_id(op, &symptom);
            if let Some(finding) = findings.get_mut(&id) {
                finding.hits += 1;
                continue;
            }
            let known = covered.contains_id(&id);
            let mut finding =
                RequestFinding { id: id.clone(), op, symptom, hits: 1, known, case: None, path: None };
            if !known {
                // A finding of a batch counts when fresh instances show it again.
                let Some(shrunk) = shrink(runner, op, tree, response, &id, *max_shrink_steps, stop) else {
                    summary.batch_unstable += 1;
                    continue;
                };
                if let Some((case_id, path)) =
                    save(out, op, &id, &finding.symptom, shrunk, response, command)?
                {
                    finding.case = Some(case_id);
                    finding.path = Some(path);
                    on_saved(&finding);
                }
            }
            findings.insert(id, finding);
        }
    }
    summary.findings = findings.into_values().collect();
    Ok(summary)
}

fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes
}

/// Inputs shaped like the operation's typical ones, every value varied but the list
/// operations' `api_version` and `kind`, which pick the Rust guest's type (any other
/// kind is refused as a list case).
fn inputs(op: Op) -> BoxedStrategy<Value> {
    let typical = super::generate::input(op);
    let strategy = varied(&Value::Object(typical.clone()));
    if !matches!(op, Op::ListResourcesByNamespace | Op::ListResourcesAll) {
        return strategy;
    }
    strategy
        .prop_map(move |mut input| {
            for key in ["api_version", "kind"] {
                input[key] = typical[key].clone();
            }
            input
        })
        .boxed()
}

fn varied(example: &Value) -> BoxedStrategy<Value> {
    match example {
        Value::String(s) => prop_oneof![
            2 => Just(Value::String(s.clone())),
            4 => select(STRINGS).prop_map(Value::from),
            // Long, from a length (a regex string would spend the shrink's steps on its letters).
            1 => (256usize..4096).prop_map(|n| Value::from("x".repeat(n))),
            1 => Just(Value::Null),
        ]
        .boxed(),
        Value::Array(items) => {
            let element = items.first().map_or_else(|| Just(Value::Null).boxed(), varied);
            prop_oneof![
                1 => Just(Value::Null),
                1 => Just(Value::Array(Vec::new())),
                4 => vec(element, 1..4).prop_map(Value::Array),
            ]
            .boxed()
        }
        Value::Object(members) => {
            let members: Vec<BoxedStrategy<Option<(String, Value)>>> = members
                .iter()
                .map(|(k, v)| {
                    let k = k.clone();
                    proptest::option::weighted(0.85, varied(v).prop_map(move |v| (k.clone(), v))).boxed()
                })
                .collect();
            members.prop_map(|m| Value::Object(m.into_iter().flatten().collect())).boxed()
        }
        Value::Bool(_) => any::<bool>().prop_map(Value::Bool).boxed(),
        other => Just(other.clone()).boxed(),
    }
}

/// A spec-valid response of `op`, the same for every input of a campaign.
fn response(op: Op) -> HostResponse {
    let doc = super::generate::document(op)
        .new_tree(&mut TestRunner::deterministic())
        .expect("generates")
        .current();
    HostResponse::Success(doc.to_bytes())
}

/// The input as a case, when it is a valid input of `op`.
fn as_case(op: Op, input: Value, response: &HostResponse, n: usize) -> Option<Case> {
    let Value::Object(input) = input else { return None };
    let valid = match op.is_oci() {
        true => input.get("image").is_some_and(Value::is_string) && input.len() == 1,
        false => crate::case::check_input(op, &input).is_ok(),
    };
    valid.then(|| Case::fuzz_input(format!("fuzz-request-{n}"), op, input, response.clone()))
}

/// The symptom of a case the guests did not agree on (a runner limit is not one).
fn symptom_of(result: &CaseResult) -> Option<String> {
    if !matches!(result.comparison.verdict, Verdict::Diverge | Verdict::Crash) {
        return None;
    }
    let signature = crate::expectations::signature(&result.comparison, &result.runs);
    Some(Symptom::of(result.case.op, &signature, Vec::new()).summary())
}

fn class_id(op: Op, symptom: &str) -> String {
    let hash = Sha256::digest(format!("request {op} {symptom}").as_bytes());
    format!("req-{}", hash.iter().take(6).map(|b| format!("{b:02x}")).collect::<String>())
}

/// Proptest's shrinking, keeping the symptom: each step is one run of fresh instances of
/// both guests. Returns the smallest input that still shows it (the found one at worst,
/// the smallest so far when `stop` is set or after `max_steps`), or `None` when fresh instances do not show
/// the found one.
fn shrink(
    runner: &Runner,
    op: Op,
    mut tree: BoxedValueTree,
    response: &HostResponse,
    id: &str,
    max_steps: u32,
    stop: &AtomicBool,
) -> Option<Input> {
    let shows = |value: &Value| {
        as_case(op, value.clone(), response, 0)
            .and_then(|case| symptom_of(&runner.run_case(&case)))
            .is_some_and(|s| class_id(op, &s) == id)
    };
    let mut smallest = tree.current();
    if !shows(&smallest) {
        return None;
    }
    // The loop of proptest's own runner: simplify after a step that keeps the symptom,
    // complicate after one that loses it, stop when neither moves.
    if tree.simplify() {
        for _ in 0..max_steps {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let candidate = tree.current();
            if shows(&candidate) {
                smallest = candidate;
                if !tree.simplify() {
                    break;
                }
            } else if !tree.complicate() {
                break;
            }
        }
    }
    match smallest {
        Value::Object(input) => Some(input),
        _ => unreachable!("only objects become cases"),
    }
}

type BoxedValueTree = Box<dyn ValueTree<Value = Value>>;

fn save(
    out: &std::path::Path,
    op: Op,
    id: &str,
    symptom: &str,
    input: Input,
    response: &HostResponse,
    command: &str,
) -> Result<Option<(String, PathBuf)>, WriteError> {
    let name = format!("{}/{id}", op.name());
    let file = CaseFile {
        id: format!("fuzz/{name}"),
        description: format!("Found by kwconform fuzz --requests: inputs on which the SDKs show {symptom}."),
        op,
        image: op
            .is_oci()
            .then(|| input.get("image").and_then(Value::as_str).unwrap_or_default().to_string()),
        input: (!op.is_oci()).then_some(input),
        response: ResponseSpec::inline(response),
        origin: Origin::Fuzz,
        provenance: Some(Provenance { note: Some(command.to_string()), ..Provenance::default() }),
        spec: None,
        tags: vec!["fuzz".into(), "fuzz-request".into(), format!("{CLASS_TAG}{id}")],
        level: Level::Required,
        expect: None::<Expect>,
    };
    Ok(write_case_file(out, &name, &file)?.map(|path| (file.id.clone(), path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varied_inputs_keep_the_shape_and_are_often_valid() {
        let mut rng = TestRunner::deterministic();
        for op in Op::ALL {
            let strategy = inputs(op);
            let valid = (0..200)
                .filter(|_| {
                    let value = strategy.new_tree(&mut rng).unwrap().current();
                    as_case(op, value, &HostResponse::Success(Vec::new()), 0).is_some()
                })
                .count();
            assert!(valid > 20, "{op}: {valid} of 200 valid");
        }
    }
}
