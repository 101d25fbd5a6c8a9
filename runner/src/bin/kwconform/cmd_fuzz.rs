//! `fuzz`: the campaign, its progress bar and its summary table.

use std::path::{Path, PathBuf};

use kwconform::case::{self, Op};
use kwconform::exit_codes;
use kwconform::fuzz::{
    Budget, ClassRecord, Covered, DECODING_CODE, FuzzEvent, FuzzOptions, FuzzSummary, RequestSummary,
    instrument,
};
use kwconform::guest::GuestSpec;
use kwconform::guest_build::Project;
use kwconform::host::{HostEngine, Limits};
use kwconform::report::{self, Report};
use kwconform::run::{Execution, Isolation, Runner};
use sha2::{Digest as _, Sha256};

use crate::cli::{CliResult, FuzzArgs};

pub fn fuzz(project: &Project, args: FuzzArgs) -> CliResult {
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let out = args.out.unwrap_or_else(|| project.cases_dir().join("fuzz"));
    let report_dir = crate::cli::report_dir(args.report.clone(), project.reports_dir())?;
    let known = known_classes(project, &out)?;
    let specs =
        if args.guests.is_empty() { crate::cmd_run::guests_for(project, &args.sdks)? } else { args.guests };
    let engine = HostEngine::new(Limits::default())?.with_module_cache(project.module_cache_dir());
    // Batched on every core; each new finding is checked fresh before it is kept.
    let execution = match Execution::from(args.execution) {
        Execution { isolation: Isolation::Batched { size, .. }, jobs } => {
            Execution { isolation: Isolation::Batched { size, recheck: false }, jobs }
        }
        fresh => fresh,
    };
    let budget = match (args.time, args.iterations) {
        (Some(time), _) => Budget::Time(time),
        (None, n) => Budget::Inputs(n.unwrap_or(1000)),
    };
    let ops = if args.ops.is_empty() { Op::ALL.to_vec() } else { args.ops };
    let stop = crate::cmd_run::interruptible()?;
    let options =
        FuzzOptions { ops, budget, seed: args.seed, out, command, max_shrink_steps: args.max_shrink_steps };
    if args.requests {
        let runner = Runner::new(engine, &specs, |_| {})?.with_execution(execution);
        let bar = progress_bar(budget);
        let summary = kwconform::fuzz::fuzz_requests(&runner, &options, &known, &stop, |f| {
            bar.println(saved_line(f.op, &f.id, &f.symptom, f.path.as_deref()))
        })?;
        bar.finish_and_clear();
        print_request_summary(&summary);
        let saved: Vec<PathBuf> = summary.findings.iter().filter_map(|f| f.path.clone()).collect();
        write_summary(
            project,
            &specs,
            execution,
            &report_dir,
            "fuzz-requests-summary.json",
            &summary,
            &saved,
        )?;
        return Ok(if saved.is_empty() { exit_codes::SUCCESS } else { exit_codes::UNEXPECTED });
    }
    // The campaign runs instrumented copies of the guests (coverage feedback); the saved
    // cases are reported with the guests themselves.
    let fuzzed = if args.no_coverage { specs.clone() } else { instrumented(project, &specs)? };
    let runner = Runner::new(engine, &fuzzed, |_| {})?.with_execution(execution);
    let bar = progress_bar(budget);
    let summary = kwconform::fuzz::fuzz(&runner, &options, &known, &stop, |event| match event {
        FuzzEvent::Progress { inputs, executions, inconclusive, new_classes, elapsed } => {
            bar.set_position(match budget {
                Budget::Time(_) => elapsed.as_secs(),
                Budget::Inputs(_) => inputs,
            });
            bar.set_message(format!(
                "{:.0} exec/s · {inputs} inputs · {inconclusive} inconclusive · {new_classes} new causes",
                executions as f64 / elapsed.as_secs_f64().max(0.001)
            ));
        }
        FuzzEvent::Saved { class } => {
            bar.println(saved_line(class.op, &class.id, &class.summary, class.path.as_deref()))
        }
    })?;
    bar.finish_and_clear();
    print_fuzz_summary(&summary);
    let saved: Vec<PathBuf> = summary.classes.iter().filter_map(|c| c.path.clone()).collect();
    write_summary(project, &specs, execution, &report_dir, "fuzz-summary.json", &summary, &saved)?;
    Ok(if saved.is_empty() { exit_codes::SUCCESS } else { exit_codes::UNEXPECTED })
}

/// The line printed above the progress bar when a campaign saves a case.
fn saved_line(op: Op, id: &str, what: &str, path: Option<&Path>) -> String {
    format!("new: {op} {id} ({what}) → {}", path.map(|p| p.display().to_string()).unwrap_or_default())
}

/// Writes a campaign's summary as `name` into the report folder, then runs the cases it
/// saved with the guests themselves and reports them like any run.
fn write_summary(
    project: &Project,
    specs: &[GuestSpec],
    execution: Execution,
    report_dir: &Path,
    name: &str,
    summary: &impl serde::Serialize,
    saved: &[PathBuf],
) -> Result<(), Box<dyn std::error::Error>> {
    let mut json = serde_json::to_vec_pretty(summary)?;
    json.push(b'\n');
    kwconform::fs::write_atomically(&report_dir.join(name), &json)?;
    if !saved.is_empty() {
        let cases = case::load_cases(saved)?;
        let engine = HostEngine::new(Limits::default())?.with_module_cache(project.module_cache_dir());
        let plain = Runner::new(engine, specs, |_| {})?.with_execution(execution);
        report::write_report(&Report::from_results(&plain.run_collect(&cases)), report_dir)?;
    }
    println!(
        "summary: {}{}",
        report_dir.join(name).display(),
        if saved.is_empty() { "" } else { " (and the reports of the saved cases)" }
    );
    Ok(())
}

/// Each guest with its decoding code instrumented for coverage (fuzz/coverage.rs),
/// written once into the module cache.
fn instrumented(
    project: &Project,
    specs: &[GuestSpec],
) -> Result<Vec<GuestSpec>, Box<dyn std::error::Error>> {
    let dir = project.module_cache_dir().join("coverage");
    specs
        .iter()
        .map(|spec| {
            let bytes = std::fs::read(&spec.path).map_err(|e| format!("{}: {e}", spec.path.display()))?;
            let hash: String = Sha256::digest(&bytes).iter().take(8).map(|b| format!("{b:02x}")).collect();
            let path = dir.join(format!("{}-{hash}.wasm", spec.name));
            if !path.is_file() {
                let module = instrument(&bytes, &DECODING_CODE).map_err(|e| {
                    format!(
                        "{}: cannot instrument for coverage (--no-coverage runs without): {e}",
                        spec.path.display()
                    )
                })?;
                eprintln!(
                    "kwconform: coverage: {} instrumented, {} sites in {} decoding functions",
                    spec.name, module.sites, module.functions
                );
                kwconform::fs::write_atomically(&path, &module.bytes)?;
            }
            Ok(GuestSpec { name: spec.name.clone(), path })
        })
        .collect()
}

/// Classes the corpus already covers: the cases earlier campaigns saved, tagged with
/// their class. (The expectations list records symptoms, not causes, so it cannot say
/// which causes are known.)
fn known_classes(project: &Project, out: &Path) -> Result<Covered, Box<dyn std::error::Error>> {
    let mut roots = vec![project.cases_dir()];
    if out.is_dir() && !out.starts_with(project.cases_dir()) {
        roots.push(out.to_path_buf());
    }
    let mut covered = Covered::default();
    for case in case::load_cases(&roots)? {
        for id in case.tags.iter().filter_map(|t| t.strip_prefix(kwconform::fuzz::CLASS_TAG)) {
            covered.add_id(id.to_string());
        }
    }
    Ok(covered)
}

fn progress_bar(budget: Budget) -> indicatif::ProgressBar {
    let (length, unit) = match budget {
        Budget::Time(t) => (t.as_secs(), "s"),
        Budget::Inputs(n) => (n, " inputs"),
    };
    let bar = indicatif::ProgressBar::new(length);
    let template = format!("{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}}{unit} {{msg}}");
    bar.set_style(
        indicatif::ProgressStyle::with_template(&template).expect("a valid template").progress_chars("=> "),
    );
    bar
}

fn print_fuzz_summary(summary: &FuzzSummary) {
    println!(
        "{:<14}{:<21}{:>7}{:>9}  {:<18}{:<11}cause → outcomes",
        "class", "op", "hits", "symptoms", "status", "spec"
    );
    let mut classes: Vec<&ClassRecord> = summary.classes.iter().collect();
    classes.sort_by_key(|c| (c.case.is_none(), c.op, std::cmp::Reverse(c.hits)));
    for c in classes {
        let status = match (&c.case, c.known, c.limit) {
            (Some(_), _, _) => format!("new {}→{} B", c.first_bytes, c.saved_bytes.unwrap_or(0)),
            (None, _, true) => "runner limit".to_string(),
            (None, true, _) => "known".to_string(),
            (None, false, _) => "seen".to_string(),
        };
        let spec = c.spec.map_or("", |s| s.name());
        println!(
            "{:<14}{:<21}{:>7}{:>9}  {:<18}{:<11}{}",
            c.id,
            c.op.name(),
            c.hits,
            c.symptoms,
            status,
            spec,
            c.summary
        );
        if let Some(case) = &c.case {
            println!(
                "{:<14}replay: cargo run -- run --cases {} --only '{case}'",
                "",
                c.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
            );
        }
    }
    let causes: std::collections::BTreeSet<_> = summary.classes.iter().map(|c| &c.cause).collect();
    println!(
        "{} classes from {} causes ({} new, saved)",
        summary.classes.len(),
        causes.len(),
        summary.classes.iter().filter(|c| c.case.is_some()).count()
    );
    for (op, s) in &summary.by_op {
        println!("{op}: {} inputs ({} inconclusive), {} executions", s.inputs, s.inconclusive, s.executions);
    }
    if !summary.inconclusive.is_empty() {
        let limits: Vec<String> = summary.inconclusive.iter().map(|(l, n)| format!("{l} ×{n}")).collect();
        println!("inconclusive (a runner limit stopped a guest, nothing compared): {}", limits.join(", "));
    }
    if let Some(c) = &summary.coverage {
        let sites: Vec<String> = c.sites.iter().map(|(g, n)| format!("{g} {n}")).collect();
        println!(
            "coverage feedback: sites of decoding code run: {}; {} inputs kept, {} derived from them, {} reruns",
            sites.join(", "),
            c.kept,
            c.derived,
            c.reruns
        );
    }
    if summary.batch_unstable > 0 {
        println!("{} finding(s) a fresh run did not show again: not saved", summary.batch_unstable);
    }
    println!(
        "{} inputs, {} executions in {:.1} s: {:.0} executions/s{}",
        summary.inputs,
        summary.executions,
        summary.elapsed_ms as f64 / 1000.0,
        summary.executions_per_second,
        if summary.stopped_early { " (stopped early; everything found so far is saved)" } else { "" }
    );
}

fn print_request_summary(summary: &RequestSummary) {
    println!("{:<18}{:<24}{:>7}  {:<7}symptom", "finding", "op", "hits", "status");
    for f in &summary.findings {
        let status = match (&f.case, f.known) {
            (Some(_), _) => "new",
            (None, true) => "known",
            (None, false) => "seen",
        };
        println!("{:<18}{:<24}{:>7}  {:<7}{}", f.id, f.op.name(), f.hits, status, f.symptom);
        if let (Some(case), Some(path)) = (&f.case, &f.path) {
            println!("{:<18}replay: cargo run -- run --cases {} --only '{case}'", "", path.display());
        }
    }
    println!(
        "{} inputs ({} not valid inputs of their operation, skipped), {} symptoms, {} new, saved",
        summary.inputs,
        summary.invalid,
        summary.findings.len(),
        summary.findings.iter().filter(|f| f.case.is_some()).count()
    );
    if summary.batch_unstable > 0 {
        println!("{} finding(s) a fresh run did not show again: not saved", summary.batch_unstable);
    }
}
