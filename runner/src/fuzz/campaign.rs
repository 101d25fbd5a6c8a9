//! The fuzz loop: glue between the generators, the mutations, the oracle and the
//! saved cases. Everything it finds is reported as events and in the summary.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::doc::Doc;
use super::generate;
use super::mutate::{self, Mutation};
use super::oracle::{Class, Covered, Evaluation, evaluate, evaluate_all};
use super::save;
use crate::case::Op;
use crate::fs::WriteError;
use crate::run::Runner;
use crate::spec::Standing;

/// How long to fuzz.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    Time(Duration),
    Inputs(u64),
}

#[derive(Clone, Debug)]
pub struct FuzzOptions {
    pub ops: Vec<Op>,
    pub budget: Budget,
    pub seed: u64,
    /// Where new cases are saved (`<out>/<op>/<class>.json`).
    pub out: PathBuf,
    /// The command line that started the campaign, recorded in saved cases.
    pub command: String,
    /// Oracle calls one shrink may make.
    pub max_shrink_steps: u32,
}

/// What the campaign did with one operation.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OpStats {
    pub inputs: u64,
    /// Inputs a runner limit made inconclusive: nothing was compared for them.
    pub inconclusive: u64,
    /// Differential executions (each input through every guest), shrinking and fresh
    /// checks of new findings included.
    pub executions: u64,
}

/// One class of disagreement seen during the campaign.
#[derive(Clone, Debug, Serialize)]
pub struct ClassRecord {
    pub id: String,
    pub op: Op,
    pub summary: String,
    /// Inputs that fell into the class.
    pub hits: u64,
    /// Covered when first seen (by the expectations list, a saved case, or the
    /// classes this campaign saw before): counted, not saved.
    pub known: bool,
    /// The saved case, for a new class.
    pub case: Option<String>,
    pub path: Option<PathBuf>,
    /// Size of the first input of the class, and of the saved (shrunk) one.
    pub first_bytes: usize,
    pub saved_bytes: Option<usize>,
    /// The spec verdict's standing (docs/spec-verdict.md) of the saved input, or of the
    /// first one when none was saved. Shrinking keeps the class, not the standing: a
    /// valid first input may shrink to an invalid one.
    pub spec: Option<Standing>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FuzzSummary {
    pub seed: u64,
    pub command: String,
    pub inputs: u64,
    pub executions: u64,
    /// Wall time of the whole campaign.
    pub elapsed_ms: u64,
    /// Executions per second of wall time.
    pub executions_per_second: f64,
    /// Findings that a fresh run did not show again (a batch artefact): not saved.
    pub batch_unstable: u64,
    pub stopped_early: bool,
    /// Inputs a runner limit stopped, by limit (`timeout`, `memory-limit`, …).
    pub inconclusive: BTreeMap<String, u64>,
    pub by_op: BTreeMap<String, OpStats>,
    pub classes: Vec<ClassRecord>,
}

pub enum FuzzEvent<'a> {
    /// After each input.
    Progress { inputs: u64, executions: u64, inconclusive: u64, new_classes: usize, elapsed: Duration },
    /// A new class was shrunk and saved.
    Saved { class: &'a ClassRecord },
}

type Input = (Doc, Vec<Mutation>);

/// The generated document with its mutations applied.
fn render((doc, mutations): &Input) -> Doc {
    let mut doc = doc.clone();
    mutate::apply(&mut doc, mutations);
    doc
}

/// Inputs generated and evaluated together.
const CHUNK: u64 = 256;

/// The same seed and options give the same sequence of inputs.
fn test_runner(seed: u64) -> TestRunner {
    let key: [u8; 32] = Sha256::digest(seed.to_le_bytes()).into();
    TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &key))
}

/// Fuzzes until the budget is spent or `stop` is set; every new class is shrunk with
/// the guests in the loop and saved at once, so an interruption loses nothing.
pub fn fuzz(
    runner: &Runner,
    options: &FuzzOptions,
    covered: &Covered,
    stop: &AtomicBool,
    mut on_event: impl FnMut(FuzzEvent<'_>),
) -> Result<FuzzSummary, WriteError> {
    let strategies: Vec<(Op, BoxedStrategy<Input>)> =
        options.ops.iter().map(|&op| (op, (generate::document(op), mutate::mutations()).boxed())).collect();
    let mut rng = test_runner(options.seed);
    let started = Instant::now();
    let mut by_op: BTreeMap<Op, OpStats> = BTreeMap::new();
    let mut classes: BTreeMap<String, ClassRecord> = BTreeMap::new();
    let mut inconclusive: BTreeMap<String, u64> = BTreeMap::new();
    let mut covered = covered.clone();
    let (mut inputs, mut executions, mut batch_unstable, mut chunks) = (0u64, 0u64, 0u64, 0u64);
    let done = |inputs: u64| match options.budget {
        Budget::Inputs(n) => inputs >= n,
        Budget::Time(t) => started.elapsed() >= t,
    };
    while !done(inputs) && !stop.load(Ordering::Relaxed) {
        // A chunk of inputs of one operation (the operations take turns), generated in
        // order from the seed, evaluated together the way the runner executes (batched, on
        // every core), then handled in order.
        let size = match options.budget {
            Budget::Inputs(total) => CHUNK.min(total - inputs),
            Budget::Time(_) => CHUNK,
        };
        let (op, strategy) = &strategies[(chunks % strategies.len() as u64) as usize];
        chunks += 1;
        let mut chunk: Vec<(Op, _)> = (0..size)
            .map(|_| (*op, strategy.new_tree(&mut rng).expect("the generators never reject")))
            .collect();
        let bytes: Vec<(Op, Vec<u8>)> =
            chunk.iter().map(|(op, tree)| (*op, render(&tree.current()).to_bytes())).collect();
        let evaluations = evaluate_all(runner, &bytes);
        for (((op, tree), (_, first)), evaluation) in chunk.iter_mut().zip(bytes).zip(evaluations) {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let op = *op;
            inputs += 1;
            let mut calls = 1;
            if let Evaluation::Inconclusive(limits) = &evaluation {
                by_op.entry(op).or_default().inconclusive += 1;
                for limit in limits {
                    *inconclusive.entry(limit.to_string()).or_default() += 1;
                }
            }
            if let Evaluation::Differ(class, _) = evaluation {
                let id = class.id();
                let mut is_new = !covered.covers(&class);
                // A new finding counts only if a fresh run shows it too.
                if is_new {
                    calls += 1;
                    let fresh = evaluate(runner, op, &first);
                    if !matches!(&fresh, Evaluation::Differ(c, _) if *c == class) {
                        batch_unstable += 1;
                        is_new = false;
                    }
                }
                covered.add(&class);
                let record = classes.entry(id.clone()).or_insert_with(|| ClassRecord {
                    id: id.clone(),
                    op,
                    summary: class.summary(),
                    hits: 0,
                    known: !is_new,
                    case: None,
                    path: None,
                    first_bytes: first.len(),
                    saved_bytes: None,
                    spec: standing(op, &first),
                });
                record.hits += 1;
                if is_new {
                    let (shrunk, steps) = shrink(tree, &class, runner, options.max_shrink_steps, stop);
                    calls += steps;
                    let found_by = format!(
                        "{} (input {inputs}, seed {}); shrunk from {} to {} bytes",
                        options.command,
                        options.seed,
                        first.len(),
                        shrunk.len()
                    );
                    match save::save(&options.out, &class, &shrunk, &found_by)? {
                        Some((case, path)) => {
                            record.case = Some(case);
                            record.path = Some(path);
                            record.saved_bytes = Some(shrunk.len());
                            record.spec = standing(op, &shrunk);
                            on_event(FuzzEvent::Saved { class: record });
                        }
                        None => record.known = true,
                    }
                }
            }
            executions += calls as u64;
            let stats = by_op.entry(op).or_default();
            stats.inputs += 1;
            stats.executions += calls as u64;
        }
        let new_classes = classes.values().filter(|c| c.case.is_some()).count();
        let stopped: u64 = by_op.values().map(|s| s.inconclusive).sum();
        on_event(FuzzEvent::Progress {
            inputs,
            executions,
            inconclusive: stopped,
            new_classes,
            elapsed: started.elapsed(),
        });
    }
    let elapsed = started.elapsed();
    Ok(FuzzSummary {
        seed: options.seed,
        command: options.command.clone(),
        inputs,
        executions,
        elapsed_ms: elapsed.as_millis() as u64,
        executions_per_second: executions as f64 / elapsed.as_secs_f64().max(0.001),
        batch_unstable,
        stopped_early: stop.load(Ordering::Relaxed),
        inconclusive,
        by_op: by_op.into_iter().map(|(op, s)| (op.name().to_string(), s)).collect(),
        classes: classes.into_values().collect(),
    })
}

/// Shrinks with the guests in the loop, keeping the input in `class`: first proptest's
/// own shrinking of the generated document and its mutations (simplify while the
/// input stays in the class, step back when it leaves it), then removal of every
/// member and item that the class does not need (mutation targets are positions, so
/// the first phase cannot always drop what lies before them). Returns the smallest
/// input and the oracle calls spent.
fn shrink(
    tree: &mut impl ValueTree<Value = Input>,
    class: &Class,
    runner: &Runner,
    max_steps: u32,
    stop: &AtomicBool,
) -> (Vec<u8>, u32) {
    let in_class = |doc: &Doc| matches!(evaluate(runner, class.op, &doc.to_bytes()), Evaluation::Differ(c, _) if c == *class);
    let mut best = render(&tree.current());
    let mut steps = 0;
    let mut more = tree.simplify();
    while more && steps < max_steps && !stop.load(Ordering::Relaxed) {
        steps += 1;
        let candidate = render(&tree.current());
        if in_class(&candidate) {
            if candidate.to_bytes().len() <= best.to_bytes().len() {
                best = candidate;
            }
            more = tree.simplify();
        } else {
            more = tree.complicate();
        }
    }
    'removal: while steps < max_steps && !stop.load(Ordering::Relaxed) {
        let paths: Vec<_> =
            best.nodes().into_iter().map(|(path, _)| path).filter(|p| !p.is_empty()).collect();
        for path in paths {
            let mut candidate = best.clone();
            if !candidate.remove(&path) {
                continue;
            }
            steps += 1;
            if in_class(&candidate) {
                best = candidate;
                continue 'removal;
            }
            if steps >= max_steps || stop.load(Ordering::Relaxed) {
                break 'removal;
            }
        }
        break;
    }
    (best.to_bytes(), steps)
}

fn standing(op: Op, bytes: &[u8]) -> Option<Standing> {
    crate::spec::judge(op, &crate::case::HostResponse::Success(bytes.to_vec())).map(|v| v.standing)
}
