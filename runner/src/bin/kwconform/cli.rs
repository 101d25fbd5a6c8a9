//! Command-line options, converted into library calls.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use globset::Glob;
use kwconform::case::{self, Case, CaseErrors, HostResponse, Op};
use kwconform::exit_codes;
use kwconform::expectations::{self, Expectations, ExpectationsFile};
use kwconform::fuzz::{Budget, Class, ClassRecord, Covered, FuzzEvent, FuzzOptions, FuzzSummary};
use kwconform::guest_build::Project;
use kwconform::host::{HostEngine, Limits};
use kwconform::kwctl;
use kwconform::relay;
use kwconform::report::{self, Report, TerminalOptions};
use kwconform::run::{Event, GuestSpec, Runner};

#[derive(Parser)]
#[command(
    name = "kwconform",
    version,
    about = "Do the Kubewarden Rust and Go SDKs decode the same host responses the same way?"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run cases against the guests and report where the SDKs disagree.
    Run(RunArgs),
    /// Build the default guests (release) and print where they are.
    BuildGuests,
    /// Maintain the expectations list (known divergences).
    #[command(subcommand)]
    Expectations(ExpectationsCommand),
    /// Validate every case file and the expectations list; exit 2 on any problem.
    Check(CheckArgs),
    /// Show what the real Kubewarden host sends for raw registry responses (oci-client).
    Relay(RelayArgs),
    /// Generate host responses, find where the SDKs disagree, shrink every new kind of
    /// disagreement and save it as a case.
    Fuzz(FuzzArgs),
    /// Turn every OCI exchange of a kwctl session file into a case file.
    ImportKwctl {
        /// A file written by `kwctl run --record-host-capabilities-interactions`.
        session: PathBuf,
        /// Where to write the case files [default: cases/]. Existing files are left alone.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Write a case as a kwctl session, for `kwctl run --replay-host-capabilities-interactions`.
    ExportKwctl {
        /// The case id.
        case: String,
        /// A folder of case files (repeatable) [default: cases/].
        #[arg(long = "cases", value_name = "DIR")]
        cases: Vec<PathBuf>,
        /// Write the session here (a new file) instead of to stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Args)]
struct FuzzArgs {
    /// Fuzz only this operation (repeatable) [default: all three].
    #[arg(long = "op", value_parser = parse_op)]
    ops: Vec<Op>,
    /// How long to fuzz, e.g. `30s`, `10m`.
    #[arg(long, value_parser = humantime::parse_duration, conflicts_with = "iterations")]
    time: Option<Duration>,
    /// How many inputs to try [default: 1000 when --time is not given].
    #[arg(long)]
    iterations: Option<u64>,
    /// The seed: the same seed and options give the same inputs.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where new cases go [default: cases/fuzz].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Where fuzz-summary.json goes [default: reports/latest].
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// A guest as NAME=PATH.wasm (repeatable); replaces the default guests.
    #[arg(long = "guest", value_name = "NAME=PATH", value_parser = parse_guest)]
    guests: Vec<GuestSpec>,
    /// Oracle calls one shrink may spend.
    #[arg(long, default_value_t = 2000)]
    max_shrink_steps: u32,
}

#[derive(Args)]
struct RelayArgs {
    /// A raw response file, or a folder of them (the rules of `run --raw`).
    #[arg(required_unless_present = "twins", conflicts_with = "twins")]
    path: Option<PathBuf>,
    /// The operation the raw responses answer.
    #[arg(long, value_parser = parse_op, default_value = "oci_manifest")]
    op: Op,
    /// Write each relayed response under DIR (a rejected one as `<name>.host-error`)
    /// instead of printing it; required for a folder. Existing files are left alone.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Write a host-relayed twin case file into --out for every registry-raw case under
    /// CASES (ids `<op>/relayed/...`). Existing files are left alone.
    #[arg(long, value_name = "CASES", requires = "out")]
    twins: Option<PathBuf>,
}

#[derive(Subcommand)]
enum ExpectationsCommand {
    /// Rewrite the list from the last report: add new divergences (marked as needing a
    /// reason), record changed ones, drop the ones that now agree; keep every reason.
    Update {
        /// The report folder to read [default: reports/latest].
        #[arg(long, value_name = "DIR")]
        report: Option<PathBuf>,
        /// The expectations file to rewrite [default: cases/expectations.json].
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

#[derive(Args)]
struct CheckArgs {
    /// A folder of case files (repeatable) [default: cases/].
    #[arg(long = "cases", value_name = "DIR")]
    cases: Vec<PathBuf>,
    /// The expectations list [default: expectations.json in the first case folder].
    #[arg(long, value_name = "FILE")]
    expectations: Option<PathBuf>,
}

#[derive(Args)]
struct RunArgs {
    /// A folder of case files, or one case file (repeatable) [default: cases/].
    #[arg(long = "cases", value_name = "DIR")]
    cases: Vec<PathBuf>,
    /// Treat every file under DIR as a raw host response for --op; ids are relative paths.
    #[arg(long, value_name = "DIR", conflicts_with = "cases", requires = "op")]
    raw: Option<PathBuf>,
    /// The operation of the --raw responses.
    #[arg(long, value_parser = parse_op)]
    op: Option<Op>,
    /// Run only the cases whose id matches this glob (e.g. 'oci_manifest/*').
    #[arg(long, value_name = "GLOB")]
    only: Option<String>,
    /// A guest as NAME=PATH.wasm (repeatable); replaces the default guests. The first
    /// is the reference every other guest is compared with.
    #[arg(long = "guest", value_name = "NAME=PATH", value_parser = parse_guest)]
    guests: Vec<GuestSpec>,
    /// The expectations list [default: expectations.json in the first case folder].
    #[arg(long, value_name = "FILE", conflicts_with = "raw")]
    expectations: Option<PathBuf>,
    /// Where to write report.json [default: reports/latest].
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// Pass every response through the real host's relay (oci-client) first.
    #[arg(long)]
    relay: bool,
    /// Per-invocation deadline of a guest, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    timeout: f64,
    /// Show agreeing cases, applied equivalences and notes too.
    #[arg(short, long)]
    verbose: bool,
}

fn parse_op(s: &str) -> Result<Op, String> {
    Op::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Op::ALL.iter().map(|o| o.name()).collect();
        format!("unknown operation {s:?}; one of {}", names.join(", "))
    })
}

fn parse_guest(s: &str) -> Result<GuestSpec, String> {
    match s.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => {
            Ok(GuestSpec { name: name.to_string(), path: PathBuf::from(path) })
        }
        _ => Err(format!("expected NAME=PATH.wasm, got {s:?}")),
    }
}

pub fn main() -> i32 {
    let cli = Cli::parse();
    let project = Project::this_checkout();
    let result = match cli.command {
        Command::Run(args) => run(&project, args),
        Command::BuildGuests => build_guests(&project),
        Command::Expectations(ExpectationsCommand::Update { report, file }) => {
            update_expectations(&project, report, file)
        }
        Command::Check(args) => check(&project, args),
        Command::Relay(args) => relay(args),
        Command::Fuzz(args) => fuzz(&project, args),
        Command::ImportKwctl { session, out } => {
            import_kwctl(&session, &out.unwrap_or_else(|| project.cases_dir()))
        }
        Command::ExportKwctl { case, cases, out } => export_kwctl(&project, &case, &cases, out.as_deref()),
    };
    result.unwrap_or_else(|error| {
        eprintln!("kwconform: error: {error}");
        let mut source = std::error::Error::source(error.as_ref());
        while let Some(cause) = source {
            eprintln!("  caused by: {cause}");
            source = cause.source();
        }
        exit_codes::ERROR
    })
}

type CliResult = Result<i32, Box<dyn std::error::Error>>;

fn build_guests(project: &Project) -> CliResult {
    let mut log = std::io::stderr();
    let specs = project.build_default_guests(&mut log)?;
    project.build_tinygo_guest(&mut log)?;
    for spec in specs {
        println!("{}\t{}", spec.name, spec.path.display());
    }
    Ok(exit_codes::SUCCESS)
}

fn run(project: &Project, args: RunArgs) -> CliResult {
    let all_cases = load_cases(project, &args)?;
    let expectations = match &args.raw {
        Some(_) => Expectations::default(),
        None => {
            load_expectations(&case_roots(project, &args.cases), args.expectations.as_deref(), &all_cases)?
        }
    };
    let mut cases = select_cases(all_cases, args.only.as_deref())?;
    if args.relay {
        cases = relay_cases(cases);
    }
    let specs = if args.guests.is_empty() {
        project.build_default_guests(&mut std::io::stderr())?
    } else {
        args.guests
    };
    let limits = Limits { timeout: Duration::from_secs_f64(args.timeout), ..Limits::default() };
    let mut out = anstream::stdout();
    let engine = HostEngine::new(limits)?.with_module_cache(project.module_cache_dir());
    let runner = Runner::new(engine, &specs, |event| {
        if let Event::GuestLoaded { guest, elapsed } = event {
            let _ = writeln!(
                out,
                "guest {:<6} {} {} ({}, sha256 {}…, loaded in {:.1} s)",
                guest.name,
                guest.sdk,
                guest.sdk_version,
                guest.abi,
                &guest.module_sha256[..12],
                elapsed.as_secs_f64()
            );
        }
    })?
    .with_expectations(expectations);
    let guests = Report::guest_entries(runner.guests());
    let options = TerminalOptions { verbose: args.verbose };
    writeln!(out, "running {} case{}\n", cases.len(), if cases.len() == 1 { "" } else { "s" })?;
    let results = runner.run(&cases, |event| {
        if let Event::CaseFinished { result, .. } = event {
            let entry = Report::result_entry(result);
            let _ = report::render_result(&mut out, &entry, &guests, options);
        }
    });
    let report = Report::from_results(&results);
    report::render_summary(&mut out, &report)?;
    let path = report::write_json(&report, &args.report.unwrap_or_else(|| project.reports_dir()))?;
    writeln!(out, "report: {}", path.display())?;
    Ok(if report.passed() { exit_codes::SUCCESS } else { exit_codes::UNEXPECTED })
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

fn relay(args: RelayArgs) -> CliResult {
    let out = args.out.as_deref();
    if let (Some(cases_dir), Some(out)) = (&args.twins, out) {
        return write_twins(cases_dir, out);
    }
    let path = args.path.expect("clap requires a path without --twins");
    let responses: Vec<(String, HostResponse)> = if path.is_dir() {
        case::load_raw_dir(&path, args.op)?.0.into_iter().map(|c| (c.id, c.response)).collect()
    } else {
        let bytes = std::fs::read(&path).map_err(|e| format!("failed to read {}: {e}", path.display()))?;
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        vec![(name, HostResponse::Success(bytes))]
    };
    let Some(out) = out else {
        let [(_, response)] = responses.as_slice() else {
            return Err("relaying a folder needs --out DIR".into());
        };
        return Ok(match relay::relay(args.op, response)? {
            HostResponse::Success(bytes) => {
                std::io::stdout().write_all(&bytes)?;
                println!();
                exit_codes::SUCCESS
            }
            HostResponse::Error(message) => {
                eprintln!("{message}");
                exit_codes::UNEXPECTED
            }
        });
    };
    let (mut written, mut kept) = (0, 0);
    for (id, response) in responses {
        let (name, bytes) = match relay::relay(args.op, &response)? {
            HostResponse::Success(bytes) => (id, bytes),
            HostResponse::Error(message) => (format!("{id}.host-error"), message.into_bytes()),
        };
        match kwconform::fs::write_new(&out.join(&name), &bytes) {
            Ok(()) => written += 1,
            Err(e) if e.source.kind() == std::io::ErrorKind::AlreadyExists => kept += 1,
            Err(e) => return Err(e.into()),
        }
    }
    println!("{written} relayed responses written to {}, {kept} existing files left alone", out.display());
    Ok(exit_codes::SUCCESS)
}

fn write_twins(cases_dir: &Path, out: &Path) -> CliResult {
    let cases = case::load_cases(&[cases_dir.to_path_buf()])?;
    let (mut written, mut kept, mut skipped) = (0, 0, 0);
    for case in cases.iter().filter(|c| c.origin == case::Origin::RegistryRaw) {
        let twin = match relay::twin(case) {
            Ok(twin) => twin,
            Err(e) => {
                eprintln!("kwconform: no twin for {}: {e}", case.id);
                skipped += 1;
                continue;
            }
        };
        let mut bytes = serde_json::to_vec_pretty(&twin)?;
        bytes.push(b'\n');
        match kwconform::fs::write_new(&out.join(format!("{}.json", twin.id)), &bytes) {
            Ok(()) => written += 1,
            Err(e) if e.source.kind() == std::io::ErrorKind::AlreadyExists => kept += 1,
            Err(e) => return Err(e.into()),
        }
    }
    println!(
        "{written} twin cases written under {}, {kept} existing left alone, {skipped} not relayable",
        out.display()
    );
    Ok(exit_codes::SUCCESS)
}

fn fuzz(project: &Project, args: FuzzArgs) -> CliResult {
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let out = args.out.unwrap_or_else(|| project.cases_dir().join("fuzz"));
    let known = known_classes(project, &out)?;
    let specs = if args.guests.is_empty() {
        project.build_default_guests(&mut std::io::stderr())?
    } else {
        args.guests
    };
    let engine = HostEngine::new(Limits::default())?.with_module_cache(project.module_cache_dir());
    let runner = Runner::new(engine, &specs, |_| {})?;
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
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let handler_stop = stop.clone();
    ctrlc::set_handler(move || handler_stop.store(true, Ordering::Relaxed))?;
    let bar = progress_bar(budget);
    let summary = kwconform::fuzz::fuzz(&runner, &options, &known, &stop, |event| match event {
        FuzzEvent::Progress { inputs, executions, new_classes, elapsed } => {
            bar.set_position(match budget {
                Budget::Time(_) => elapsed.as_secs(),
                Budget::Inputs(_) => inputs,
            });
            bar.set_message(format!(
                "{:.0} exec/s · {inputs} inputs · {new_classes} new signatures",
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
    let report_dir = args.report.unwrap_or_else(|| project.reports_dir());
    let mut json = serde_json::to_vec_pretty(&summary)?;
    json.push(b'\n');
    kwconform::fs::write_atomically(&report_dir.join("fuzz-summary.json"), &json)?;
    println!("summary: {}", report_dir.join("fuzz-summary.json").display());
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
    println!("{:<14}{:<22}{:>7}  {:<18}what differs", "signature", "op", "hits", "status");
    let mut classes: Vec<&ClassRecord> = summary.classes.iter().collect();
    classes.sort_by_key(|c| (c.case.is_none(), c.op, std::cmp::Reverse(c.hits)));
    for c in classes {
        let status = match (&c.case, c.known) {
            (Some(_), _) => format!("new {}→{} B", c.first_bytes, c.saved_bytes.unwrap_or(0)),
            (None, true) => "known".to_string(),
            (None, false) => "seen".to_string(),
        };
        println!("{:<14}{:<22}{:>7}  {:<18}{}", c.id, c.op.name(), c.hits, status, c.summary);
        if let Some(case) = &c.case {
            println!(
                "{:<14}replay: cargo run -- run --cases {} --only '{case}'",
                "",
                c.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
            );
        }
    }
    for (op, s) in &summary.by_op {
        println!(
            "{op}: {} inputs, {} executions, {:.0} executions/s",
            s.inputs, s.executions, s.executions_per_second
        );
    }
    println!(
        "{} inputs, {} executions in {:.1} s{}",
        summary.inputs,
        summary.executions,
        summary.elapsed_ms as f64 / 1000.0,
        if summary.stopped_early { " (stopped early; everything found so far is saved)" } else { "" }
    );
}

fn import_kwctl(session: &Path, out: &Path) -> CliResult {
    let (cases, skipped) = kwctl::import(session)?;
    for s in &skipped {
        println!("skipped exchange {}: {} is not an OCI manifest fetch", s.index, s.request);
    }
    let (mut written, mut kept) = (0, 0);
    for case in &cases {
        let mut bytes = serde_json::to_vec_pretty(case)?;
        bytes.push(b'\n');
        match kwconform::fs::write_new(&out.join(format!("{}.json", case.id)), &bytes) {
            Ok(()) => written += 1,
            Err(e) if e.source.kind() == std::io::ErrorKind::AlreadyExists => kept += 1,
            Err(e) => return Err(e.into()),
        }
    }
    println!(
        "{written} cases written under {}, {kept} existing left alone, {} exchanges skipped",
        out.display(),
        skipped.len()
    );
    Ok(exit_codes::SUCCESS)
}

fn export_kwctl(project: &Project, id: &str, roots: &[PathBuf], out: Option<&Path>) -> CliResult {
    let cases = case::load_cases(&case_roots(project, roots))?;
    let case = cases.iter().find(|c| c.id == id).ok_or_else(|| format!("no case has the id {id:?}"))?;
    let session = kwctl::export(case)?;
    match out {
        Some(path) => {
            kwconform::fs::write_new(path, session.as_bytes())?;
            println!("wrote {}", path.display());
        }
        None => print!("{session}"),
    }
    Ok(exit_codes::SUCCESS)
}

fn load_cases(project: &Project, args: &RunArgs) -> Result<Vec<Case>, Box<dyn std::error::Error>> {
    if let (Some(dir), Some(op)) = (&args.raw, args.op) {
        let (cases, skipped) = case::load_raw_dir(dir, op)?;
        for path in skipped {
            eprintln!(
                "kwconform: skipped {} (not a response: see docs/case-format.md, raw folders)",
                path.display()
            );
        }
        return Ok(cases);
    }
    Ok(case::load_cases(&case_roots(project, &args.cases))?)
}

fn case_roots(project: &Project, given: &[PathBuf]) -> Vec<PathBuf> {
    if given.is_empty() { vec![project.cases_dir()] } else { given.to_vec() }
}

/// The given expectations file, or `expectations.json` in the first case folder if it
/// exists; entries must name loaded cases.
fn load_expectations(
    roots: &[PathBuf],
    given: Option<&Path>,
    cases: &[Case],
) -> Result<Expectations, Box<dyn std::error::Error>> {
    let default = roots.first().map(|root| root.join(expectations::FILE_NAME)).filter(|p| p.is_file());
    let Some(path) = given.map(Path::to_path_buf).or(default) else {
        return Ok(Expectations::default());
    };
    let loaded = Expectations::load(&path).map_err(CaseErrors)?;
    let ids: HashSet<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    let unknown = loaded.unknown_cases(&ids);
    if !unknown.is_empty() {
        return Err(CaseErrors(unknown).into());
    }
    Ok(loaded)
}

fn update_expectations(project: &Project, report: Option<PathBuf>, file: Option<PathBuf>) -> CliResult {
    let report_path = report.unwrap_or_else(|| project.reports_dir()).join("report.json");
    let report: Report = serde_json::from_slice(
        &std::fs::read(&report_path).map_err(|e| format!("failed to read {}: {e}", report_path.display()))?,
    )
    .map_err(|e| format!("failed to read {}: {e}", report_path.display()))?;
    let file = file.unwrap_or_else(|| project.cases_dir().join(expectations::FILE_NAME));
    let existing = if file.is_file() {
        let text = std::fs::read_to_string(&file)?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}:{}: {e}", file.display(), e.line(), e.column()))?
    } else {
        ExpectationsFile::default()
    };
    let (updated, summary) = expectations::update(&existing, &report.results, &report.guests);
    let mut bytes = serde_json::to_vec_pretty(&updated)?;
    bytes.push(b'\n');
    kwconform::fs::write_atomically(&file, &bytes)?;
    println!(
        "{}: {} added, {} changed, {} removed, {} entries in all",
        file.display(),
        summary.added.len(),
        summary.changed.len(),
        summary.removed.len(),
        updated.expectations.len()
    );
    for case in &summary.needing_reason {
        println!("  needs a reason: {case}");
    }
    Ok(exit_codes::SUCCESS)
}

fn check(project: &Project, args: CheckArgs) -> CliResult {
    let roots = case_roots(project, &args.cases);
    let cases = case::load_cases(&roots)?;
    let expectations = load_expectations(&roots, args.expectations.as_deref(), &cases)?;
    let listed = expectations.entries().count();
    let unexplained = expectations.entries().filter(|e| e.reason.is_none()).count();
    println!("{} cases and {listed} expectations are valid", cases.len());
    if unexplained > 0 {
        println!("{unexplained} expectations still need a reason");
    }
    Ok(exit_codes::SUCCESS)
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
