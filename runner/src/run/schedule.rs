//! Scheduling a run: cases in units (a batch of consecutive cases of one operation, or
//! one case for fresh isolation), units on a pool of workers that share the engine and
//! the compiled modules, results handed back in case order. Workers run at most a window
//! of units ahead of the one being handed back, so what waits in memory is bounded.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};

use super::{CaseResult, Execution, Isolation, Runner};
use crate::case::{Case, HostResponse, Input};
use crate::compare::Verdict;
use crate::guest::GuestRun;

/// Units a worker may run ahead of the first one not yet handed back, per worker.
const WINDOW_PER_JOB: usize = 4;

/// Runs `cases`, handing `(index, result)` to `on_result` in case order; returns how
/// many were handed (fewer when the runner was stopped).
pub(super) fn run(
    runner: &Runner,
    execution: Execution,
    cases: &[Case],
    mut on_result: impl FnMut(usize, CaseResult),
) -> usize {
    let jobs = execution.jobs.max(1);
    let units = units(cases, execution.isolation, jobs);
    let jobs = jobs.min(units.len().max(1));
    let window = jobs * WINDOW_PER_JOB;
    let next = AtomicUsize::new(0);
    // The first unit not yet handed back; workers wait to stay within the window of it.
    let handed = (Mutex::new(0usize), Condvar::new());
    let (sender, receiver) = mpsc::channel::<(usize, Vec<CaseResult>)>();
    let mut emitted = 0;
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let (sender, next, handed, units) = (sender.clone(), &next, &handed, &units);
            scope.spawn(move || {
                loop {
                    let unit = next.fetch_add(1, Ordering::Relaxed);
                    let Some(range) = units.get(unit) else { break };
                    let mut first = handed.0.lock().unwrap_or_else(|p| p.into_inner());
                    while unit >= *first + window && !runner.stopped() {
                        first = handed.1.wait(first).unwrap_or_else(|p| p.into_inner());
                    }
                    drop(first);
                    if runner.stopped() {
                        break;
                    }
                    let results = run_unit(runner, execution.isolation, &cases[range.clone()]);
                    if sender.send((unit, results)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut waiting: BTreeMap<usize, Vec<CaseResult>> = BTreeMap::new();
        let mut first = 0;
        for (unit, results) in receiver {
            waiting.insert(unit, results);
            while let Some(results) = waiting.remove(&first) {
                for result in results {
                    on_result(emitted, result);
                    emitted += 1;
                }
                first += 1;
                *handed.0.lock().unwrap_or_else(|p| p.into_inner()) = first;
                handed.1.notify_all();
            }
            if runner.stopped() {
                // Wake waiting workers so they see the stop.
                handed.1.notify_all();
            }
        }
    });
    emitted
}

/// The units of work: one case each, or runs of consecutive cases of one operation, no
/// longer than needed to give every worker a share.
fn units(cases: &[Case], isolation: Isolation, jobs: usize) -> Vec<Range<usize>> {
    let size = match isolation {
        Isolation::Fresh => 1,
        Isolation::Batched { size, .. } => size.min(cases.len().div_ceil(jobs)).max(1),
    };
    let mut units = Vec::new();
    let mut start = 0;
    for i in 1..=cases.len() {
        if i == cases.len() || i - start == size || cases[i].op != cases[start].op {
            units.push(start..i);
            start = i;
        }
    }
    units
}

/// Runs one unit and returns its results, each with bounded excerpts.
fn run_unit(runner: &Runner, isolation: Isolation, cases: &[Case]) -> Vec<CaseResult> {
    let results: Vec<CaseResult> = match isolation {
        Isolation::Fresh => cases.iter().map(|case| runner.run_case(case)).collect(),
        Isolation::Batched { recheck, .. } => run_batch(runner, cases, recheck),
    };
    results
        .into_iter()
        .map(|mut result| {
            for (_, run) in &mut result.runs {
                run.excerpt();
            }
            result
        })
        .collect()
}

/// The cases of one operation, batched per guest; with `recheck`, every case that does
/// not agree is run again fresh, and the fresh result stands.
fn run_batch(runner: &Runner, cases: &[Case], recheck: bool) -> Vec<CaseResult> {
    let op = cases[0].op;
    let requests: Vec<(&Input, &HostResponse)> = cases.iter().map(|c| (&c.input, &c.response)).collect();
    let stopped = || runner.stopped();
    let per_guest: Vec<Vec<GuestRun>> =
        runner.guests.iter().map(|g| g.run_batch(&runner.engine, op, &requests, &stopped)).collect();
    // Stopped midway: only the cases every guest ran.
    let served = per_guest.iter().map(Vec::len).min().unwrap_or(0);
    let mut per_guest: Vec<std::vec::IntoIter<GuestRun>> =
        per_guest.into_iter().map(Vec::into_iter).collect();
    cases[..served]
        .iter()
        .map(|case| {
            let runs = runner
                .guests
                .iter()
                .zip(&mut per_guest)
                .map(|(guest, runs)| (guest.name.clone(), runs.next().expect("one run per request")))
                .collect();
            let batched = runner.judged(case, runs);
            if batched.comparison.verdict == Verdict::Agree || !recheck || runner.stopped() {
                return batched;
            }
            let mut fresh = runner.run_case(case);
            let unstable = observed(&fresh) != observed(&batched);
            fresh.batch_unstable = unstable;
            fresh
        })
        .collect()
}

/// What a case's result shows a maintainer, timings and messages aside: each guest's
/// outcome class, kind, view and failure kind, and its host calls.
fn observed(result: &CaseResult) -> Vec<impl PartialEq + '_> {
    result
        .runs
        .iter()
        .map(|(name, run)| {
            let outcome = &run.outcome;
            let failure = match outcome {
                crate::guest::Outcome::EngineError(f) => Some(f.kind()),
                _ => None,
            };
            let view = match outcome {
                crate::guest::Outcome::Ok { view, .. } => Some(view),
                _ => None,
            };
            let calls: Vec<_> = run
                .invocation
                .calls
                .iter()
                .map(|c| (&c.binding, &c.namespace, &c.operation, &c.payload, &c.answer))
                .collect();
            (name, outcome.class(), outcome.kind(), view, failure, calls)
        })
        .collect()
}
