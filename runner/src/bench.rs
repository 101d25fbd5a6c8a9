//! `kwconform bench`: differential executions per second, measured in one process over
//! the same cases in each way the runner can execute them, against the ceiling of the
//! guests themselves (docs/performance.md).

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::case::{Case, HostResponse};
use crate::guest::GuestSpec;
use crate::host::{EngineSetupError, GuestModule, HostEngine, HostScript, Limits, ModuleError, Request};
use crate::run::{Event, Execution, Isolation, Runner, RunnerError};

/// One way of executing, measured.
#[derive(Clone, Debug, Serialize)]
pub struct ModeResult {
    pub mode: String,
    pub jobs: usize,
    pub cases: usize,
    /// The median of five rounds.
    pub seconds: f64,
    /// Differential executions (one case through every guest) per second.
    pub executions_per_second: f64,
    /// The rate per worker, as a share of the ceiling per core.
    pub of_ceiling: f64,
    /// The share of the workers' time spent inside guest invocations, each instance's
    /// instantiation counted with its first request (the rest is parsing views,
    /// comparing, judging, scheduling).
    pub in_guests: f64,
}

/// What one guest does with one typical request, over and over in one warm instance.
#[derive(Clone, Debug, Serialize)]
pub struct GuestCeiling {
    pub guest: String,
    pub requests: usize,
    pub microseconds_per_request: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub cores: usize,
    /// The case of median response size, whose response the ceiling repeats.
    pub typical_case: String,
    pub cases: usize,
    pub batch_size: usize,
    /// Runner start with every module in the cache, to the first result.
    pub warm_start_ms: f64,
    pub modes: Vec<ModeResult>,
    pub ceiling: Vec<GuestCeiling>,
    /// Differential executions per second one core can do at the ceiling: one request
    /// through every guest, each warm.
    pub ceiling_per_core: f64,
    /// batched-parallel / fresh-serial.
    pub speedup: f64,
    pub peak_rss_mib: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Engine(#[from] EngineSetupError),
    #[error(transparent)]
    Runner(#[from] RunnerError),
    #[error(transparent)]
    Module(#[from] ModuleError),
    #[error("no cases to measure")]
    NoCases,
}

/// Measures fresh-serial, batched-serial, batched-parallel (no recheck: the engine's own
/// speed), the run as `kwconform run` does it (batched-parallel with fresh rechecks),
/// and the ceiling, over `cases`.
pub fn bench(
    guests: &[GuestSpec],
    cases: &[Case],
    module_cache: &Path,
    batch_size: usize,
    ceiling_requests: usize,
    mut progress: impl FnMut(&str),
) -> Result<BenchReport, BenchError> {
    // The typical response: the case of median response size.
    let mut by_size: Vec<&Case> = cases.iter().collect();
    by_size.sort_by_key(|c| match &c.response {
        HostResponse::Success(bytes) => bytes.len(),
        HostResponse::Error(message) => message.len(),
    });
    let typical = *by_size.get(by_size.len() / 2).ok_or(BenchError::NoCases)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let engine =
        || HostEngine::new(Limits::default()).map(|e| e.with_module_cache(module_cache.to_path_buf()));
    let started = Instant::now();
    let runner = Runner::new(engine()?, guests, |_| {})?;
    runner.run(std::slice::from_ref(typical), |_| {});
    let warm_start = started.elapsed();

    let batched = |recheck| Isolation::Batched { size: batch_size, recheck };
    let modes = [
        ("fresh-serial", Isolation::Fresh, 1),
        ("batched-serial", batched(false), 1),
        ("batched-parallel", batched(false), cores),
        ("run (batched-parallel, rechecked)", batched(true), cores),
    ];
    let ceiling_engine = engine()?;
    let ceiling_modules = guests
        .iter()
        .map(|spec| GuestModule::load(&ceiling_engine, &spec.path))
        .collect::<Result<Vec<_>, _>>()?;
    let payload = typical.request();
    let script = HostScript { op: typical.op, response: typical.response.clone() };
    let ceiling_batch = vec![Request { payload, script }; ceiling_requests];
    for module in &ceiling_modules {
        module.invoke_batch(&ceiling_engine, typical.op.name(), &ceiling_batch[..1]); // warm-up
    }

    // Rounds of every measurement in turn, so that a machine whose speed drifts slows
    // every mode alike; each measurement's median round is reported.
    let mut rounds: Vec<Vec<(Duration, Duration)>> = vec![Vec::new(); modes.len()];
    let mut ceiling_rounds: Vec<Vec<(Duration, usize)>> = vec![Vec::new(); guests.len()];
    for round in 1..=REPETITIONS {
        progress(&format!("round {round} of {REPETITIONS}"));
        for ((_, isolation, jobs), times) in modes.iter().zip(&mut rounds) {
            let mut in_guests = Duration::ZERO;
            let execution = Execution { isolation: *isolation, jobs: *jobs };
            let stats = runner.run_as(execution, cases, |event| {
                if let Event::CaseFinished { result, .. } = event {
                    in_guests += result.runs.iter().map(|(_, run)| run.invocation.elapsed).sum::<Duration>();
                }
            });
            times.push((stats.elapsed, in_guests));
        }
        for (module, times) in ceiling_modules.iter().zip(&mut ceiling_rounds) {
            let started = Instant::now();
            let served = module.invoke_batch(&ceiling_engine, typical.op.name(), &ceiling_batch);
            times.push((started.elapsed(), served.len()));
        }
    }
    let ceiling: Vec<GuestCeiling> = runner
        .guests()
        .iter()
        .zip(ceiling_rounds)
        .map(|(summary, times)| {
            let (elapsed, served) = median(times);
            GuestCeiling {
                guest: summary.name.clone(),
                requests: served,
                microseconds_per_request: elapsed.as_secs_f64() * 1e6 / served.max(1) as f64,
            }
        })
        .collect();
    let ceiling_per_core =
        1e6 / ceiling.iter().map(|c| c.microseconds_per_request).sum::<f64>().max(f64::EPSILON);
    let results: Vec<ModeResult> = modes
        .iter()
        .zip(rounds)
        .map(|((name, _, jobs), times)| {
            let (elapsed, in_guests) = median(times);
            mode(name, *jobs, cases.len(), (elapsed, in_guests), ceiling_per_core)
        })
        .collect();
    let rate = |name: &str| results.iter().find(|m| m.mode == name).map_or(0.0, |m| m.executions_per_second);
    Ok(BenchReport {
        cores,
        typical_case: typical.id.clone(),
        cases: cases.len(),
        batch_size,
        warm_start_ms: warm_start.as_secs_f64() * 1000.0,
        speedup: rate("batched-parallel") / rate("fresh-serial").max(f64::EPSILON),
        modes: results,
        ceiling,
        ceiling_per_core,
        peak_rss_mib: peak_rss_mib(),
    })
}

/// The median round (by its first duration): one machine's noise is wide.
fn median<T>(mut rounds: Vec<(Duration, T)>) -> (Duration, T) {
    rounds.sort_by_key(|(elapsed, _)| *elapsed);
    rounds.swap_remove(rounds.len() / 2)
}

const REPETITIONS: usize = 5;

fn mode(
    name: &str,
    jobs: usize,
    cases: usize,
    (elapsed, in_guests): (Duration, Duration),
    ceiling_per_core: f64,
) -> ModeResult {
    let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
    let executions_per_second = cases as f64 / seconds;
    ModeResult {
        mode: name.into(),
        jobs,
        cases,
        seconds,
        executions_per_second,
        of_ceiling: executions_per_second / jobs as f64 / ceiling_per_core,
        in_guests: in_guests.as_secs_f64() / (seconds * jobs as f64),
    }
}

/// The process's peak resident memory, from the kernel (`VmHWM`), in MiB.
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}
