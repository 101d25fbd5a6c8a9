//! Executing cases against guests. Execution emits results; it never formats them.
//!
//! A run hands cases to a pool of workers ([`schedule`]) that share the engine and the
//! compiled modules. By default each worker serves a batch of cases of one operation in
//! one instance per guest, and runs every case that does not agree again in fresh
//! instances: the fresh result is the one reported, and a case whose fresh and batched
//! results differ is marked batch-unstable. Results come back in case order.

mod schedule;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sha2::Digest as _;

use crate::case::Case;
use crate::compare::{self, Comparison, ExpectationStatus};
use crate::expectations::{Expectations, Judgement};
use crate::guest::{Guest, GuestLoadError, GuestRun, GuestSpec, GuestSummary};
use crate::host::HostEngine;

/// A stable slice of the cases: shard `index` of `count` (1-based) holds the cases
/// whose id hashes to it, so adding a case never moves the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn contains(&self, case_id: &str) -> bool {
        let hash = sha2::Sha256::digest(case_id.as_bytes());
        let value = u64::from_be_bytes(hash[..8].try_into().expect("SHA-256 has 32 bytes"));
        value % self.count == self.index - 1
    }
}

/// One case run against every guest, compared.
#[derive(Clone, Debug)]
pub struct CaseResult {
    pub case: Case,
    /// In guest order; the first is the reference.
    pub runs: Vec<(String, GuestRun)>,
    pub comparison: Comparison,
    /// The result against the expectations list.
    pub judgement: Judgement,
    /// The case fails the run: its judgement fails, or a guest missed the case's `expect`.
    pub unexpected: bool,
    /// Run batched and again fresh (it did not agree), the two results differed: the fresh
    /// one is reported.
    pub batch_unstable: bool,
}

/// How cases share guest instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// A fresh instance of every guest for every case.
    Fresh,
    /// Up to `size` cases of one operation per instance. With `recheck`, every case that
    /// does not agree is run again fresh and the fresh result is reported (a run always
    /// rechecks; the fuzzer checks each new finding fresh itself).
    Batched { size: usize, recheck: bool },
}

/// How a run executes: isolation and the number of workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Execution {
    pub isolation: Isolation,
    /// Worker threads; they share the engine and the compiled modules.
    pub jobs: usize,
}

impl Default for Execution {
    /// Batches of 128 (docs/performance.md), one worker per core.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Execution { isolation: Isolation::Batched { size: 128, recheck: true }, jobs: cores }
    }
}

/// What a run did, besides its results (which it hands out as events).
#[derive(Clone, Copy, Debug)]
pub struct RunStats {
    pub cases: usize,
    pub elapsed: Duration,
    /// Stopped (Ctrl-C) before every case ran.
    pub interrupted: bool,
}

/// Everything a run produced, collected ([`Runner::run_collect`]); a run of many cases
/// hands its results to a streaming reporter instead.
pub struct RunResults {
    pub guests: Vec<GuestSummary>,
    pub results: Vec<CaseResult>,
    pub elapsed: Duration,
    /// The run was stopped before every case ran: the results are the cases finished.
    pub interrupted: bool,
    /// The expectations list's causes, for the reports.
    pub causes: Vec<crate::expectations::Cause>,
}

/// Progress of a run, for whoever is watching.
pub enum Event<'a> {
    GuestLoaded {
        guest: &'a GuestSummary,
        elapsed: Duration,
    },
    /// A case is done, in case order; the result is the watcher's to keep or drop.
    CaseFinished {
        index: usize,
        total: usize,
        result: Box<CaseResult>,
    },
}

/// The guests of a run, loaded into one engine.
pub struct Runner {
    engine: HostEngine,
    guests: Vec<Guest>,
    summaries: Vec<GuestSummary>,
    expectations: Expectations,
    stop: Option<Arc<AtomicBool>>,
    execution: Execution,
}

/// Why a set of guests cannot make a run: a run must compare something.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("a run needs at least two guests to compare, got {0}")]
    TooFewGuests(usize),
    #[error("two guests are named {0:?}: every guest needs its own name")]
    DuplicateGuest(String),
    #[error(transparent)]
    Load(#[from] GuestLoadError),
}

impl Runner {
    /// Compiles and describes every guest (in parallel: the Go module takes seconds).
    /// Refuses fewer than two guests and duplicate names before loading anything.
    pub fn new(
        engine: HostEngine,
        specs: &[GuestSpec],
        mut on_event: impl FnMut(Event<'_>),
    ) -> Result<Self, RunnerError> {
        if specs.len() < 2 {
            return Err(RunnerError::TooFewGuests(specs.len()));
        }
        if let Some(twice) =
            specs.iter().enumerate().find(|(i, s)| specs[..*i].iter().any(|o| o.name == s.name))
        {
            return Err(RunnerError::DuplicateGuest(twice.1.name.clone()));
        }
        let loaded: Vec<(Result<Guest, GuestLoadError>, Duration)> = std::thread::scope(|scope| {
            let handles: Vec<_> = specs
                .iter()
                .map(|spec| {
                    let engine = &engine;
                    scope.spawn(move || {
                        let started = Instant::now();
                        (Guest::load(engine, &spec.name, &spec.path), started.elapsed())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("guest loading does not panic")).collect()
        });
        let (mut guests, mut summaries) = (Vec::new(), Vec::new());
        for (guest, elapsed) in loaded {
            let guest = guest?;
            summaries.push(guest.summary());
            on_event(Event::GuestLoaded { guest: &summaries[summaries.len() - 1], elapsed });
            guests.push(guest);
        }
        Ok(Runner {
            engine,
            guests,
            summaries,
            expectations: Expectations::default(),
            stop: None,
            execution: Execution::default(),
        })
    }

    /// Judges divergences against this list (by default, every divergence is unlisted).
    pub fn with_expectations(mut self, expectations: Expectations) -> Self {
        self.expectations = expectations;
        self
    }

    /// How [`Runner::run`] executes (by default: batched, one worker per core).
    pub fn with_execution(mut self, execution: Execution) -> Self {
        self.execution = execution;
        self
    }

    pub fn execution(&self) -> Execution {
        self.execution
    }

    /// [`Runner::run`] stops before the next case once `stop` is set (Ctrl-C).
    pub fn with_stop(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = Some(stop);
        self
    }

    pub fn guests(&self) -> &[GuestSummary] {
        &self.summaries
    }

    /// Runs one case in fresh instances of every guest and compares the results, keeping
    /// everything the guests wrote.
    pub fn run_case(&self, case: &Case) -> CaseResult {
        let runs: Vec<(String, GuestRun)> = self
            .guests
            .iter()
            .map(|g| (g.name.clone(), g.run(&self.engine, case.op, &case.input, &case.response)))
            .collect();
        self.judged(case, runs)
    }

    /// Compares the runs of one case and judges them against the expectations list.
    fn judged(&self, case: &Case, runs: Vec<(String, GuestRun)>) -> CaseResult {
        let comparison = compare::compare(case, &runs, &self.summaries);
        let judgement = self.expectations.judge(&case.id, case.level, &comparison, &runs, &self.summaries);
        // An unmet `expect` block fails the run unless the expectations list records this
        // very result for these SDK versions (the list is the versioned record).
        let unmet = matches!(comparison.expectation, ExpectationStatus::Unmet(_));
        let unexpected = judgement.fails() || (unmet && !matches!(judgement, Judgement::Expected { .. }));
        CaseResult { case: case.clone(), runs, comparison, judgement, unexpected, batch_unstable: false }
    }

    /// Runs every case, handing each result to `on_event` in case order as soon as it and
    /// the ones before it are done. What each result keeps of the guests' output is
    /// bounded ([`GuestRun::excerpt`]).
    pub fn run(&self, cases: &[Case], on_event: impl FnMut(Event<'_>)) -> RunStats {
        self.run_as(self.execution, cases, on_event)
    }

    /// [`Runner::run`], executed another way than the runner's own.
    pub fn run_as(
        &self,
        execution: Execution,
        cases: &[Case],
        mut on_event: impl FnMut(Event<'_>),
    ) -> RunStats {
        let started = Instant::now();
        let done = schedule::run(self, execution, cases, |index, result| {
            on_event(Event::CaseFinished { index, total: cases.len(), result: Box::new(result) })
        });
        RunStats { cases: done, elapsed: started.elapsed(), interrupted: done < cases.len() }
    }

    /// [`Runner::run`], with the results collected.
    pub fn run_collect(&self, cases: &[Case]) -> RunResults {
        let mut results = Vec::with_capacity(cases.len());
        let stats = self.run(cases, |event| {
            if let Event::CaseFinished { result, .. } = event {
                results.push(*result);
            }
        });
        RunResults {
            guests: self.summaries.clone(),
            results,
            elapsed: stats.elapsed,
            interrupted: stats.interrupted,
            causes: self.expectations.causes.clone(),
        }
    }

    /// The expectations list's causes.
    pub fn causes(&self) -> &[crate::expectations::Cause] {
        &self.expectations.causes
    }

    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed))
    }
}
