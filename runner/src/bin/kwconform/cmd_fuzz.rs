//! `fuzz`: the campaign, its progress bar and its summary table.

use std::path::{Path, PathBuf};

use kwconform::case::{self, CaseErrors, Op};
use kwconform::exit_codes;
use kwconform::expectations::{self, Expectations};
use kwconform::fuzz::{Budget, Class, ClassRecord, Covered, FuzzEvent, FuzzOptions, FuzzSummary};
use kwconform::guest_build::Project;
use kwconform::host::{HostEngine, Limits};
use kwconform::report::{self, Report};
use kwconform::run::{Execution, Isolation, Runner};

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
    let runner = Runner::new(engine, &specs, |_| {})?.with_execution(execution);
    let budget = match (args.time, args.iterations) {
        (Some(time), _) => Budget::Time(time),
        (None, n) => Budget::Inputs(n.unwrap_or(1000)),
    };
    let options = FuzzOptions {
        ops: if args.ops.is_empty() { Op::ALL.to_vec() } else { args.ops },
        budget,
        seed: args.seed,
        out,
        command,
        max_shrink_steps: args.max_shrink_steps,
    };
    let stop = crate::cmd_run::interruptible()?;
    let bar = progress_bar(budget);
    let summary = kwconform::fuzz::fuzz(&runner, &options, &known, &stop, |event| match event {
        FuzzEvent::Progress { inputs, executions, inconclusive, new_classes, elapsed } => {
            bar.set_position(match budget {
                Budget::Time(_) => elapsed.as_secs(),
                Budget::Inputs(_) => inputs,
            });
            bar.set_message(format!(
                "{:.0} exec/s · {inputs} inputs · {inconclusive} inconclusive · {new_classes} new signatures",
                executions as f64 / elapsed.as_secs_f64().max(0.001)
            ));
        }
        FuzzEvent::Saved { class } => bar.println(format!(
            "new: {} {} ({}) → {}",
            class.op,
            class.id,
            class.summary,
            class.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
        )),
    })?;
    bar.finish_and_clear();
    print_fuzz_summary(&summary);
    let mut json = serde_json::to_vec_pretty(&summary)?;
    json.push(b'\n');
    kwconform::fs::write_atomically(&report_dir.join("fuzz-summary.json"), &json)?;
    // The cases this campaign saved, run and reported like any run.
    let saved: Vec<PathBuf> = summary.classes.iter().filter_map(|c| c.path.clone()).collect();
    if !saved.is_empty() {
        let cases = case::load_cases(&saved)?;
        report::write_report(&Report::from_results(&runner.run_collect(&cases)), &report_dir)?;
    }
    println!(
        "summary: {}{}",
        report_dir.join("fuzz-summary.json").display(),
        if saved.is_empty() { "" } else { " (and the reports of the saved cases)" }
    );
    let new = summary.classes.iter().filter(|c| c.case.is_some()).count();
    Ok(if new == 0 { exit_codes::SUCCESS } else { exit_codes::UNEXPECTED })
}

/// Classes the corpus already covers: the expectations list's entries, and the cases
/// earlier campaigns saved (tagged with their class).
fn known_classes(project: &Project, out: &Path) -> Result<Covered, Box<dyn std::error::Error>> {
    let mut roots = vec![project.cases_dir()];
    if out.is_dir() && !out.starts_with(project.cases_dir()) {
        roots.push(out.to_path_buf());
    }
    let cases = case::load_cases(&roots)?;
    let mut covered = Covered::default();
    for id in
        cases.iter().flat_map(|c| c.tags.iter().filter_map(|t| t.strip_prefix(kwconform::fuzz::CLASS_TAG)))
    {
        covered.add_id(id.to_string());
    }
    let list = Expectations::load(&project.cases_dir().join(expectations::FILE_NAME)).map_err(CaseErrors)?;
    for entry in list.entries() {
        if let Some(case) = cases.iter().find(|c| c.id == entry.case) {
            covered.add(&Class::of(case.op, &entry.signature));
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
    println!("{:<14}{:<22}{:>7}  {:<18}{:<11}what differs", "signature", "op", "hits", "status", "spec");
    let mut classes: Vec<&ClassRecord> = summary.classes.iter().collect();
    classes.sort_by_key(|c| (c.case.is_none(), c.op, std::cmp::Reverse(c.hits)));
    for c in classes {
        let status = match (&c.case, c.known) {
            (Some(_), _) => format!("new {}→{} B", c.first_bytes, c.saved_bytes.unwrap_or(0)),
            (None, true) => "known".to_string(),
            (None, false) => "seen".to_string(),
        };
        let spec = c.spec.map_or("", |s| s.name());
        println!("{:<14}{:<22}{:>7}  {:<18}{:<11}{}", c.id, c.op.name(), c.hits, status, spec, c.summary);
        if let Some(case) = &c.case {
            println!(
                "{:<14}replay: cargo run -- run --cases {} --only '{case}'",
                "",
                c.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
            );
        }
    }
    for (op, s) in &summary.by_op {
        println!("{op}: {} inputs ({} inconclusive), {} executions", s.inputs, s.inconclusive, s.executions);
    }
    if !summary.inconclusive.is_empty() {
        let limits: Vec<String> = summary.inconclusive.iter().map(|(l, n)| format!("{l} ×{n}")).collect();
        println!("inconclusive (a runner limit stopped a guest, nothing compared): {}", limits.join(", "));
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
