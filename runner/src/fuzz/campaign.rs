//! The fuzz loop: glue between the generators, the mutations, the oracle and the
//! saved cases. Everything it finds is reported as events and in the summary.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::Rng;
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::cause::{self, Finding, Found, find_causes};
use super::doc::Doc;
use super::generate;
use super::mutate::{self, Applied, Mutation};
use super::oracle::{Cause, Class, Coverage, Covered, Evaluation, Symptom, evaluate, observe, observe_all};
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

/// One class (a cause with its outcomes) seen during the campaign.
#[derive(Clone, Debug, Serialize)]
pub struct ClassRecord {
    pub id: String,
    pub op: Op,
    pub cause: Cause,
    /// `key-case → go ok/image, rust ok/image`.
    pub summary: String,
    /// Inputs that fell into the class.
    pub hits: u64,
    /// Distinct symptoms (outcomes and differing paths) its inputs showed: one cause at
    /// many paths is still one class.
    pub symptoms: usize,
    /// A runner limit stopped a guest: nothing was compared, the cause is not
    /// minimised and nothing is saved.
    pub limit: bool,
    /// Covered when first seen (by a saved case, or seen earlier in this campaign):
    /// counted, not saved.
    pub known: bool,
    /// The saved case, for a new class.
    pub case: Option<String>,
    pub path: Option<PathBuf>,
    /// Where the cause's mutations applied in the first input of the class.
    pub applied: Vec<Applied>,
    /// What the saved input shows (or the first one, when none was saved).
    pub symptom: String,
    /// Size of the first input of the class, and of the saved (shrunk) one.
    pub first_bytes: usize,
    pub saved_bytes: Option<usize>,
    /// The spec verdict's standing (docs/spec-verdict.md) of the first input reduced to
    /// the cause's mutations; the saved input has the same (shrinking keeps it).
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
    /// Coverage feedback, when the guests are instrumented (docs/fuzzing.md).
    pub coverage: Option<FeedbackStats>,
    pub classes: Vec<ClassRecord>,
}

/// What coverage feedback did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FeedbackStats {
    /// Per guest, the sites of decoding code the campaign ran.
    pub sites: BTreeMap<String, usize>,
    /// Inputs kept because they ran sites nothing had run before.
    pub kept: usize,
    /// Inputs run again alone to tell which input of a batch ran the new sites.
    pub reruns: u64,
    /// Inputs made by mutating a kept one further.
    pub derived: u64,
}

pub enum FuzzEvent<'a> {
    /// After each input.
    Progress { inputs: u64, executions: u64, inconclusive: u64, new_classes: usize, elapsed: Duration },
    /// A new class was shrunk and saved.
    Saved { class: &'a ClassRecord },
}

type Input = (Doc, Vec<Mutation>);

/// A derived input carries at most this many mutations: its parent's and new ones.
const MAX_STACKED: usize = 4;

/// Coverage feedback: the sites each guest has run, and the inputs that first ran some,
/// per operation. Inert when the guests are not instrumented (no coverage comes back).
#[derive(Default)]
struct Feedback {
    seen: BTreeMap<String, HashSet<u32>>,
    corpus: BTreeMap<Op, Vec<Input>>,
    stats: FeedbackStats,
}

impl Feedback {
    fn is_new(&self, coverage: &Coverage) -> bool {
        coverage.iter().any(|(guest, sites)| match self.seen.get(guest) {
            Some(seen) => sites.iter().any(|s| !seen.contains(s)),
            None => !sites.is_empty(),
        })
    }

    fn add(&mut self, coverage: &Coverage) {
        for (guest, sites) in coverage {
            self.seen.entry(guest.clone()).or_default().extend(sites.iter());
        }
    }

    /// Half the inputs, once something is kept: a kept input with new mutations on top.
    fn derive(&mut self, op: Op, fresh: Input, rng: &mut TestRunner) -> (Input, bool) {
        let Some(corpus) = self.corpus.get(&op).filter(|c| !c.is_empty()) else { return (fresh, false) };
        if rng.rng().next_u32().is_multiple_of(2) {
            return (fresh, false);
        }
        let (doc, mut mutations) = corpus[rng.rng().next_u32() as usize % corpus.len()].clone();
        mutations.extend(fresh.1);
        mutations.truncate(MAX_STACKED);
        self.stats.derived += 1;
        ((doc, mutations), true)
    }

    /// Keeps the inputs of a chunk that ran new sites. An instance's coverage covers
    /// every input it served; where it holds new sites, its inputs are run again alone,
    /// in order, until those sites are accounted for (what only a batch runs, such as a
    /// warm cache, is then taken as seen). Returns the oracle calls spent.
    fn learn(
        &mut self,
        runner: &Runner,
        op: Op,
        inputs: &[Input],
        bytes: &[(Op, Vec<u8>)],
        coverage: &[Coverage],
    ) -> u64 {
        let mut calls = 0;
        let mut done: HashSet<Vec<usize>> = HashSet::new();
        for (i, union) in coverage.iter().enumerate() {
            let instance: Vec<usize> = union.iter().map(|(_, sites)| Arc::as_ptr(sites) as usize).collect();
            if !self.is_new(union) || done.contains(&instance) {
                continue;
            }
            for j in (i..coverage.len()).filter(|&j| {
                coverage[j].iter().map(|(_, s)| Arc::as_ptr(s) as usize).eq(instance.iter().copied())
            }) {
                if !self.is_new(union) {
                    break;
                }
                let (_, alone) = observe(runner, op, &bytes[j].1);
                calls += 1;
                if self.is_new(&alone) {
                    self.add(&alone);
                    self.corpus.entry(op).or_default().push(inputs[j].clone());
                    self.stats.kept += 1;
                }
            }
            self.add(union);
            done.insert(instance);
        }
        self.stats.reruns += calls;
        calls
    }

    fn summary(&self) -> Option<FeedbackStats> {
        (!self.seen.is_empty()).then(|| FeedbackStats {
            sites: self.seen.iter().map(|(g, s)| (g.clone(), s.len())).collect(),
            ..self.stats.clone()
        })
    }
}

/// The generated document with its mutations applied, and the mutations that found a
/// target with where they applied.
fn render((doc, mutations): &Input) -> (Doc, Vec<(Mutation, Applied)>) {
    let mut doc = doc.clone();
    let applied = mutations
        .iter()
        .filter_map(|m| Some((m.clone(), Applied { operator: m.operator(), at: m.apply(&mut doc)? })))
        .collect();
    (doc, applied)
}

/// Inputs generated and evaluated together.
const CHUNK: u64 = 256;

/// The same seed and options give the same sequence of inputs.
fn test_runner(seed: u64) -> TestRunner {
    let key: [u8; 32] = Sha256::digest(seed.to_le_bytes()).into();
    TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &key))
}

/// Fuzzes until the budget is spent or `stop` is set. The cause of every disagreement
/// is found; every new class is shrunk with the guests in the loop and saved at once,
/// so an interruption loses nothing.
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
    let mut symptoms: BTreeMap<String, BTreeSet<Symptom>> = BTreeMap::new();
    let mut inconclusive: BTreeMap<String, u64> = BTreeMap::new();
    let mut covered = covered.clone();
    let mut feedback = Feedback::default();
    let (mut inputs, mut executions, mut batch_unstable, mut chunks) = (0u64, 0u64, 0u64, 0u64);
    let done = |inputs: u64| match options.budget {
        Budget::Inputs(n) => inputs >= n,
        Budget::Time(t) => started.elapsed() >= t,
    };
    while !done(inputs) && !stop.load(Ordering::Relaxed) {
        // A chunk of inputs of one operation (the operations take turns), generated in
        // order from the seed, evaluated together the way the runner executes (batched, on
        // every core), their causes found together, then handled in order.
        let size = match options.budget {
            Budget::Inputs(total) => CHUNK.min(total - inputs),
            Budget::Time(_) => CHUNK,
        };
        let (op, strategy) = &strategies[(chunks % strategies.len() as u64) as usize];
        let op = *op;
        chunks += 1;
        let mut trees: Vec<_> =
            (0..size).map(|_| strategy.new_tree(&mut rng).expect("the generators never reject")).collect();
        let (generated, derived): (Vec<Input>, Vec<bool>) =
            trees.iter().map(|t| feedback.derive(op, t.current(), &mut rng)).unzip();
        let rendered: Vec<(Doc, Vec<(Mutation, Applied)>)> = generated.iter().map(render).collect();
        let bytes: Vec<(Op, Vec<u8>)> = rendered.iter().map(|(doc, _)| (op, doc.to_bytes())).collect();
        let (evaluations, coverage): (Vec<Evaluation>, Vec<Coverage>) =
            observe_all(runner, &bytes).into_iter().unzip();
        let learning = feedback.learn(runner, op, &generated, &bytes, &coverage);
        let (finding_at, findings): (Vec<usize>, Vec<Finding<'_>>) = evaluations
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match e {
                Evaluation::Differ(symptom) => Some((
                    i,
                    Finding {
                        generated: &generated[i].0,
                        mutations: rendered[i].1.iter().map(|(m, _)| m.clone()).collect(),
                        symptom,
                    },
                )),
                _ => None,
            })
            .unzip();
        let (found, cause_executions) = find_causes(runner, op, &findings);
        let mut found: BTreeMap<usize, Found> = finding_at.into_iter().zip(found).collect();
        let stats = by_op.entry(op).or_default();
        stats.executions += cause_executions + learning;
        executions += cause_executions + learning;
        for (i, evaluation) in evaluations.iter().enumerate() {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            inputs += 1;
            let mut calls = 1;
            let first = &bytes[i].1;
            let applied: Vec<Applied> = rendered[i].1.iter().map(|(_, a)| a.clone()).collect();
            let (class, symptom, found) = match evaluation {
                Evaluation::Agree => (None, None, None),
                Evaluation::Inconclusive(limits, symptom) => {
                    by_op.entry(op).or_default().inconclusive += 1;
                    for limit in limits {
                        *inconclusive.entry(limit.to_string()).or_default() += 1;
                    }
                    let mutations: Vec<Mutation> = rendered[i].1.iter().map(|(m, _)| m.clone()).collect();
                    let cause = if mutations.is_empty() {
                        Cause::Generated { diffs: symptom.diffs.clone() }
                    } else {
                        cause::cause_of(&mutations)
                    };
                    (Some(Class { op, cause, outcomes: symptom.outcomes.clone() }), Some(symptom), None)
                }
                Evaluation::Differ(symptom) => {
                    let found = found.remove(&i).expect("every disagreement has a cause");
                    let class = Class { op, cause: found.cause.clone(), outcomes: symptom.outcomes.clone() };
                    (Some(class), Some(symptom), Some(found))
                }
            };
            if let (Some(class), Some(symptom)) = (class, symptom) {
                let id = class.id();
                let mut is_new = !covered.covers(&class);
                // A new finding counts only if a fresh run shows it too (a limit is not re-run:
                // it could cost the whole deadline again).
                if is_new && found.is_some() {
                    calls += 1;
                    if evaluate(runner, op, first).symptom() != Some(symptom) {
                        batch_unstable += 1;
                        is_new = false;
                    }
                }
                covered.add(&class);
                symptoms.entry(id.clone()).or_default().insert(symptom.clone());
                let record = classes.entry(id.clone()).or_insert_with(|| ClassRecord {
                    id: id.clone(),
                    op,
                    cause: class.cause.clone(),
                    summary: class.summary(),
                    hits: 0,
                    symptoms: 0,
                    limit: found.is_none(),
                    known: !is_new,
                    case: None,
                    path: None,
                    applied: applied_of(&class.cause, &applied),
                    symptom: symptom.summary(),
                    first_bytes: first.len(),
                    saved_bytes: None,
                    spec: standing(
                        op,
                        &found
                            .as_ref()
                            .map_or_else(|| first.clone(), |f| minimal(&generated[i].0, f).to_bytes()),
                    ),
                });
                record.hits += 1;
                record.symptoms = symptoms[&id].len();
                if let (true, Some(found)) = (is_new, found) {
                    // A derived input is not its tree's value: only the removal phase applies.
                    let tree = (!derived[i]).then_some(&mut trees[i]);
                    let (shrunk, steps) =
                        shrink(tree, &generated[i].0, &found, runner, options.max_shrink_steps, stop);
                    calls += steps;
                    let found_by = format!(
                        "{} (input {inputs}, seed {}); mutations: {}; shrunk from {} to {} bytes",
                        options.command,
                        options.seed,
                        describe(&record.applied),
                        first.len(),
                        shrunk.len()
                    );
                    match save::save(&options.out, &class, &found.symptom, &shrunk, &found_by)? {
                        Some((case, path)) => {
                            record.case = Some(case);
                            record.path = Some(path);
                            record.saved_bytes = Some(shrunk.len());
                            record.symptom = found.symptom.summary();
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
        coverage: feedback.summary(),
        classes: classes.into_values().collect(),
    })
}

/// The applied mutations that make up the cause (the others did not matter).
fn applied_of(cause: &Cause, applied: &[Applied]) -> Vec<Applied> {
    let Cause::Mutations { operators } = cause else { return Vec::new() };
    let mut wanted = operators.clone();
    applied
        .iter()
        .filter(|a| match wanted.iter().position(|o| *o == a.operator) {
            Some(p) => {
                wanted.remove(p);
                true
            }
            None => false,
        })
        .cloned()
        .collect()
}

/// `key-case at /config/MediaType, null at /layers/0`.
fn describe(applied: &[Applied]) -> String {
    if applied.is_empty() {
        return "none (the generated document)".into();
    }
    applied
        .iter()
        .map(|a| format!("{} at {}", a.operator, if a.at.is_empty() { "/" } else { &a.at }))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Shrinks with the guests in the loop, from the generated document with only the
/// cause's mutations. A candidate is kept while it shows the same symptom, keeps the
/// spec verdict's standing and (in the first phase) carries exactly the cause's
/// mutations: first proptest's own shrinking of the generated document and its
/// mutations (simplify while the input stays, step back when it leaves), then removal
/// of every member and item that is not needed, except what the mutations made, what is
/// in it and what holds it, and only while undoing the mutations still takes the
/// finding away (mutation targets are positions, so the first phase cannot always drop
/// what lies before them). Returns the smallest input and the oracle calls spent.
fn shrink<T: ValueTree<Value = Input>>(
    tree: Option<&mut T>,
    generated: &Doc,
    found: &Found,
    runner: &Runner,
    max_steps: u32,
    stop: &AtomicBool,
) -> (Vec<u8>, u32) {
    let op = found.symptom.op;
    let mut best = minimal(generated, found);
    let first_standing = standing(op, &best.to_bytes());
    let shows = |bytes: &[u8]| evaluate(runner, op, bytes) == Evaluation::Differ(found.symptom.clone());
    let keeps = |doc: &Doc| {
        let bytes = doc.to_bytes();
        standing(op, &bytes) == first_standing && shows(&bytes)
    };
    // Undoing the mutations takes the finding away: an SDK that failed no longer fails
    // the same way, or (when every SDK decodes) some of the differences go.
    let caused = |reverted: &[u8]| match evaluate(runner, op, reverted) {
        Evaluation::Differ(s) if s.outcomes == found.symptom.outcomes => {
            s.outcomes.iter().all(|(_, o)| o.starts_with("ok")) && !s.diffs.is_superset(&found.symptom.diffs)
        }
        _ => true,
    };
    let operators = |mutations: &[Mutation]| cause::cause_of(mutations);
    let cause_operators = operators(&found.mutations);
    let mut steps = 0;
    if let Some(tree) = tree {
        let mut more = tree.simplify();
        while more && steps < max_steps && !stop.load(Ordering::Relaxed) {
            steps += 1;
            let (candidate, applied) = render(&tree.current());
            let mutations: Vec<Mutation> = applied.into_iter().map(|(m, _)| m).collect();
            if operators(&mutations) == cause_operators && keeps(&candidate) {
                if candidate.to_bytes().len() <= best.to_bytes().len() {
                    best = candidate;
                }
                more = tree.simplify();
            } else {
                more = tree.complicate();
            }
        }
    }
    'removal: while steps < max_steps && !stop.load(Ordering::Relaxed) {
        // What a mutation made, what is inside it and what holds it stay.
        let marks = best.marks();
        let paths: Vec<_> = best
            .nodes()
            .into_iter()
            .map(|(path, _)| path)
            .filter(|p| !p.is_empty() && !marks.iter().any(|m| m.starts_with(p) || p.starts_with(m)))
            .collect();
        for path in paths {
            let mut candidate = best.clone();
            if !candidate.remove(&path) {
                continue;
            }
            steps += 1;
            // Kept while it still shows what was found, and only because of the mutations:
            // undone, they must take it away (another reason to fail, such as a required
            // member removed, would show the same).
            if keeps(&candidate) && {
                steps += 1;
                caused(&candidate.reverted().to_bytes())
            } {
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

/// The generated document with only the cause's mutations: what shrinking starts from.
fn minimal(generated: &Doc, found: &Found) -> Doc {
    cause::render(generated, &found.mutations)
}

fn standing(op: Op, bytes: &[u8]) -> Option<Standing> {
    crate::spec::judge(op, &crate::case::HostResponse::Success(bytes.to_vec())).map(|v| v.standing)
}
