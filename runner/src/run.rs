//! Executing cases against guests. Execution emits results; it never formats them.

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
}

/// Everything a run produced; reporters read only this.
pub struct RunResults {
    pub guests: Vec<GuestSummary>,
    pub results: Vec<CaseResult>,
    pub elapsed: Duration,
    /// The run was stopped before every case ran: the results are the cases finished.
    pub interrupted: bool,
}

/// Progress of a run, for whoever is watching.
pub enum Event<'a> {
    GuestLoaded { guest: &'a GuestSummary, elapsed: Duration },
    CaseFinished { index: usize, total: usize, result: &'a CaseResult },
}

/// The guests of a run, loaded into one engine.
pub struct Runner {
    engine: HostEngine,
    guests: Vec<Guest>,
    summaries: Vec<GuestSummary>,
    expectations: Expectations,
    stop: Option<Arc<AtomicBool>>,
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
        Ok(Runner { engine, guests, summaries, expectations: Expectations::default(), stop: None })
    }

    /// Judges divergences against this list (by default, every divergence is unlisted).
    pub fn with_expectations(mut self, expectations: Expectations) -> Self {
        self.expectations = expectations;
        self
    }

    /// [`Runner::run`] stops before the next case once `stop` is set (Ctrl-C).
    pub fn with_stop(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = Some(stop);
        self
    }

    pub fn guests(&self) -> &[GuestSummary] {
        &self.summaries
    }

    /// Runs one case against every guest and compares the results.
    pub fn run_case(&self, case: &Case) -> CaseResult {
        let runs: Vec<(String, GuestRun)> = self
            .guests
            .iter()
            .map(|g| (g.name.clone(), g.run(&self.engine, case.op, &case.image, &case.response)))
            .collect();
        let comparison = compare::compare(case, &runs, &self.summaries);
        let judgement = self.expectations.judge(&case.id, case.level, &comparison, &runs, &self.summaries);
        // An unmet `expect` block fails the run unless the expectations list records this
        // very result for these SDK versions (the list is the versioned record).
        let unmet = matches!(comparison.expectation, ExpectationStatus::Unmet(_));
        let unexpected = judgement.fails() || (unmet && !matches!(judgement, Judgement::Expected { .. }));
        CaseResult { case: case.clone(), runs, comparison, judgement, unexpected }
    }

    /// Runs every case, reporting each result as it is done.
    pub fn run(&self, cases: &[Case], mut on_event: impl FnMut(Event<'_>)) -> RunResults {
        let started = Instant::now();
        let mut results = Vec::with_capacity(cases.len());
        let stopped = || self.stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed));
        for (index, case) in cases.iter().enumerate() {
            if stopped() {
                break;
            }
            let mut result = self.run_case(case);
            // What a run keeps of each case stays bounded (`repro` shows everything).
            for (_, run) in &mut result.runs {
                run.excerpt();
            }
            on_event(Event::CaseFinished { index, total: cases.len(), result: &result });
            results.push(result);
        }
        let interrupted = results.len() < cases.len();
        RunResults { guests: self.summaries.clone(), results, elapsed: started.elapsed(), interrupted }
    }
}
