//! Command-line options, converted into library calls.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use globset::Glob;
use kwconform::case::{self, Case, Op};
use kwconform::exit_codes;
use kwconform::guest_build::Project;
use kwconform::host::{HostEngine, Limits};
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
    /// Where to write report.json [default: reports/latest].
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
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
    let cases = select_cases(load_cases(project, &args)?, args.only.as_deref())?;
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
    })?;
    let guests = Report::guest_entries(&runner.guests());
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
    let roots = if args.cases.is_empty() { vec![project.cases_dir()] } else { args.cases.clone() };
    Ok(case::load_cases(&roots)?)
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
