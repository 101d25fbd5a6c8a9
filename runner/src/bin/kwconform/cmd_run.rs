//! `run` and `build-guests`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use globset::Glob;
use kwconform::case::{self, Case};
use kwconform::excerpt::shown;
use kwconform::exit_codes;
use kwconform::expectations::Expectations;
use kwconform::guest::GuestSpec;
use kwconform::guest_build::{Project, SdkSpec};
use kwconform::host::{HostEngine, Limits, WapcHostFlavour};
use kwconform::matrix::Release;
use kwconform::relay;
use kwconform::report::{self, Report, ReportHead, ReportWriter, TerminalOptions};
use kwconform::run::{Event, Runner};

use crate::cli::{CliResult, RunArgs, SdkArgs, case_roots, load_expectations};

pub fn build_guests(project: &Project, sdks: &SdkArgs) -> CliResult {
    let mut log = std::io::stderr();
    let specs = guests_for(project, sdks)?;
    if sdks.rust_sdk.is_none() && sdks.go_sdk.is_none() {
        let go_wapc = project.build_go_wapc_guest(&mut log)?;
        project.build_tinygo_guest(&mut log)?;
        println!("go-wapc\t{}", go_wapc.display());
    }
    for spec in specs {
        println!("{}\t{}", spec.name, spec.path.display());
    }
    Ok(exit_codes::SUCCESS)
}

/// The `rust` and `go` guests: built against the given SDKs, or the pinned ones.
pub fn guests_for(project: &Project, sdks: &SdkArgs) -> Result<Vec<GuestSpec>, Box<dyn std::error::Error>> {
    let mut log = std::io::stderr();
    let rust = match &sdks.rust_sdk {
        Some(spec) => project.build_rust_guest_for(&SdkSpec::parse(spec), &mut log)?,
        None => project.build_rust_guest(&mut log)?,
    };
    let go = match &sdks.go_sdk {
        Some(spec) => project.build_go_guest_for(&SdkSpec::parse(spec), &mut log)?,
        None => project.build_go_guest(&mut log)?,
    };
    Ok(vec![GuestSpec { name: "rust".into(), path: rust }, GuestSpec { name: "go".into(), path: go }])
}

pub fn run(project: &Project, args: RunArgs) -> CliResult {
    let all_cases = load_cases(project, &args)?;
    let expectations = match &args.raw {
        Some(_) => Expectations::default(),
        None => {
            load_expectations(&case_roots(project, &args.cases), args.expectations.as_deref(), &all_cases)?
        }
    };
    let mut cases = select_cases(all_cases, args.only.as_deref())?;
    // Case id order, the order of the reports, whatever the order of the files.
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(shard) = args.shard {
        cases.retain(|c| shard.contains(&c.id));
    }
    if args.relay {
        cases = relay_cases(cases);
    }
    if cases.is_empty() && !args.allow_empty {
        return Err("no cases selected: nothing would be compared (an empty shard of a CI run may pass \
                    --allow-empty)"
            .into());
    }
    let report_dir = crate::cli::report_dir(args.report.clone(), project.reports_dir())?;
    let specs = if args.guests.is_empty() { guests_for(project, &args.sdks)? } else { args.guests };
    let limits = Limits { timeout: args.timeout, ..Limits::default() };
    let mut out = anstream::stdout();
    let engine = HostEngine::new(limits)?
        .with_module_cache(project.module_cache_dir())
        .with_wapc_host(args.wapc_host.into());
    let quiet = args.quiet;
    let runner = Runner::new(engine, &specs, |event| {
        if let Event::GuestLoaded { guest, elapsed } = event
            && !quiet
        {
            let source =
                shown(&guest.sdk_source.as_ref().map_or("source not stated".into(), |s| s.to_string()));
            let abi = match guest.wapc_host {
                Some(host) if host != WapcHostFlavour::default() => format!("{} via {host}", guest.abi),
                _ => guest.abi.to_string(),
            };
            let _ = writeln!(
                out,
                "guest {:<6} {} {} ({source}; {abi}, sha256 {}…, loaded in {:.1} s)",
                shown(&guest.name),
                shown(&guest.sdk),
                shown(&guest.sdk_version),
                &guest.module_sha256[..12],
                elapsed.as_secs_f64()
            );
        }
    })?
    .with_expectations(expectations)
    .with_execution(args.execution.into())
    .with_stop(interruptible()?);
    let guests = runner.guests().to_vec();
    let options = TerminalOptions { verbose: args.verbose, quiet: args.quiet };
    if !quiet {
        writeln!(out, "running {} case{}\n", cases.len(), if cases.len() == 1 { "" } else { "s" })?;
    }
    // Each result is shown and spilled to the reports as it comes: nothing accumulates.
    let mut writer = ReportWriter::create(&report_dir, &guests, runner.causes())?;
    let mut failure = None;
    let stats = runner.run(&cases, |event| {
        if let Event::CaseFinished { result, .. } = event
            && failure.is_none()
        {
            match writer.add(&result) {
                Ok(entry) => {
                    let _ = report::render_result(&mut out, &entry, &guests, options);
                }
                Err(e) => failure = Some(e),
            }
        }
    });
    if let Some(e) = failure {
        return Err(e.into());
    }
    if cases.is_empty() {
        writeln!(out, "no cases selected (--allow-empty): nothing was compared")?;
    }
    let head = writer.finish(stats.elapsed, stats.interrupted)?;
    finish(&head, &report_dir, quiet)
}

/// A flag Ctrl-C and SIGTERM set: the run stops before its next case and writes the
/// reports of the cases it finished, marked partial.
pub fn interruptible() -> Result<Arc<AtomicBool>, ctrlc::Error> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))?;
    Ok(stop)
}

/// Prints the summary (or, quiet, the verdict) of written reports, gives the exit code.
fn finish(report: &ReportHead, dir: &Path, quiet: bool) -> CliResult {
    let mut out = anstream::stdout();
    if quiet {
        report::render_verdict(&mut out, report)?;
    } else {
        report::render_summary(&mut out, report)?;
    }
    writeln!(out, "reports: {} (report.json, junit.xml, summary.md, report.html)", dir.display())?;
    Ok(match () {
        _ if report.partial => exit_codes::INTERRUPTED,
        _ if report.passed() => exit_codes::SUCCESS,
        _ => exit_codes::UNEXPECTED,
    })
}

/// Merges shard reports into one: the same guests (by module hash) or nothing.
pub fn merge(project: &Project, dirs: &[PathBuf], out: Option<PathBuf>) -> CliResult {
    let out = crate::cli::report_dir(out, project.reports_dir())?;
    let reports = dirs
        .iter()
        .map(|dir| {
            let path = dir.join("report.json");
            let bytes =
                std::fs::read(&path).map_err(|e| format!("failed to read {}: {e}", path.display()))?;
            let document: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| format!("{}:{}:{}: {e}", path.display(), e.line(), e.column()))?;
            // A shard is trusted only if it is a report of this kwconform's schema.
            Report::validate(&document).map_err(|errors| {
                format!("{} does not follow docs/report.schema.json: {}", path.display(), errors.join("; "))
            })?;
            serde_json::from_value(document)
                .map_err(|e| format!("{} is not a kwconform report: {e}", path.display()))
        })
        .collect::<Result<Vec<Report>, String>>()?;
    let merged = Report::merge(reports)?;
    report::write_report(&merged, &out)?;
    finish(&merged.head(), &out, false)
}

/// The cases as the host would relay them; those the relay cannot model are skipped.
fn relay_cases(cases: Vec<Case>) -> Vec<Case> {
    cases
        .into_iter()
        .filter_map(|case| match relay::relayed_case(&case) {
            Ok(relayed) => Some(relayed),
            Err(e) => {
                eprintln!("kwconform: skipped {} under --relay: {e}", case.id);
                None
            }
        })
        .collect()
}

fn load_cases(project: &Project, args: &RunArgs) -> Result<Vec<Case>, Box<dyn std::error::Error>> {
    if let (Some(dir), Some(op)) = (&args.raw, args.op) {
        let input = case::raw_input(op, args.input.clone())?;
        let (cases, skipped) = case::load_raw_dir(dir, op, &input)?;
        for path in skipped {
            eprintln!(
                "kwconform: skipped {} (hidden, documentation, licence, fixture index or not a regular \
                 file: see docs/case-format.md, raw folders)",
                path.display()
            );
        }
        return Ok(cases);
    }
    Ok(case::load_cases(&case_roots(project, &args.cases))?)
}

fn select_cases(cases: Vec<Case>, only: Option<&str>) -> Result<Vec<Case>, Box<dyn std::error::Error>> {
    let Some(pattern) = only else { return Ok(cases) };
    let glob = Glob::new(pattern)?.compile_matcher();
    let selected: Vec<Case> = cases.into_iter().filter(|c| glob.is_match(&c.id)).collect();
    if selected.is_empty() {
        return Err(format!("no case id matches {pattern:?}").into());
    }
    Ok(selected)
}

/// `matrix`: builds every guest, runs every pair and every release step.
pub fn matrix(project: &Project, rust: &[String], go: &[String], report: Option<PathBuf>) -> CliResult {
    let bar = indicatif::ProgressBar::new((rust.len() + go.len()) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .expect("a valid template"),
    );
    let mut log = std::io::sink();
    let mut build = |flavour: &str, spec: &String| -> Result<Release, Box<dyn std::error::Error>> {
        bar.set_message(format!("building the {flavour} guest for {spec}"));
        let sdk = SdkSpec::parse(spec);
        let path = match flavour {
            "rust" => project.build_rust_guest_for(&sdk, &mut log)?,
            _ => project.build_go_guest_for(&sdk, &mut log)?,
        };
        bar.inc(1);
        Ok(Release { spec: spec.clone(), guest: GuestSpec { name: flavour.into(), path } })
    };
    let rust: Vec<Release> = rust.iter().map(|s| build("rust", s)).collect::<Result<_, _>>()?;
    let go: Vec<Release> = go.iter().map(|s| build("go", s)).collect::<Result<_, _>>()?;
    let cases = case::load_cases(&[project.cases_dir()])?;
    bar.set_position(0);
    let matrix = kwconform::matrix::matrix(&rust, &go, &cases, &project.module_cache_dir(), |p| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        bar.set_message(p.what.to_string());
    })?;
    bar.finish_and_clear();
    let dir = crate::cli::report_dir(report, project.reports_dir())?;
    let markdown = matrix.markdown();
    print!("{markdown}");
    let mut json = serde_json::to_vec_pretty(&matrix)?;
    json.push(b'\n');
    kwconform::fs::write_atomically(&dir.join("matrix.json"), &json)?;
    kwconform::fs::write_atomically(&dir.join("matrix.md"), markdown.as_bytes())?;
    kwconform::fs::write_atomically(&dir.join("matrix.html"), matrix.html().as_bytes())?;
    println!("\nmatrix: {} (matrix.json, matrix.md, matrix.html)", dir.display());
    Ok(exit_codes::SUCCESS)
}

/// `bench`: the measurements, as a table (and JSON).
pub fn bench(project: &Project, args: crate::cli::BenchArgs) -> CliResult {
    let mut cases = case::load_cases(&case_roots(project, &args.cases))?;
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    let specs = guests_for(project, &SdkArgs::default())?;
    let report = kwconform::bench::bench(
        &specs,
        &cases,
        &project.module_cache_dir(),
        args.batch_size.into(),
        args.ceiling_requests as usize,
        |step| eprintln!("kwconform: bench {step}"),
    )?;
    println!("{} cases, {} cores, batches of {}", report.cases, report.cores, report.batch_size);
    println!(
        "{:<36}{:>6}{:>10}{:>16}{:>12}{:>12}",
        "mode", "jobs", "seconds", "executions/s", "of ceiling", "in guests"
    );
    for m in &report.modes {
        println!(
            "{:<36}{:>6}{:>10.3}{:>16.0}{:>11.0}%{:>11.0}%",
            m.mode,
            m.jobs,
            m.seconds,
            m.executions_per_second,
            m.of_ceiling * 100.0,
            m.in_guests * 100.0
        );
    }
    for c in &report.ceiling {
        println!(
            "ceiling: {} {:.1} µs per request ({} requests, one warm instance)",
            c.guest, c.microseconds_per_request, c.requests
        );
    }
    println!(
        "ceiling per core: {:.0} differential executions/s (the response of {}, the case of median size)",
        report.ceiling_per_core, report.typical_case
    );
    println!("batched-parallel / fresh-serial: {:.1}x", report.speedup);
    println!(
        "warm start to first result: {:.1} ms; peak RSS {:.0} MiB",
        report.warm_start_ms, report.peak_rss_mib
    );
    if let Some(path) = &args.json {
        let mut json = serde_json::to_vec_pretty(&report)?;
        json.push(b'\n');
        kwconform::fs::write_atomically(path, &json)?;
    }
    Ok(exit_codes::SUCCESS)
}
