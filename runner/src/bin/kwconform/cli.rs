//! Command-line options, converted into library calls.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use kwconform::case::{Case, CaseErrors, Input, Op};
use kwconform::exit_codes;
use kwconform::expectations::{self, Expectations};
use kwconform::guest::GuestSpec;
use kwconform::guest_build::Project;
use kwconform::host::WapcHostFlavour;
use kwconform::run::{Execution, Isolation, Shard};

use crate::{cmd_corpus, cmd_fuzz, cmd_repro, cmd_run};

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
    /// Build the guests (release) and print where they are: the pinned SDKs, or the
    /// given SDK releases or local checkouts.
    BuildGuests(SdkArgs),
    /// Maintain the expectations list (known divergences).
    #[command(subcommand)]
    Expectations(ExpectationsCommand),
    /// Validate every case file and the expectations list; exit 2 on any problem.
    Check(CheckArgs),
    /// Show what the real Kubewarden host sends for raw registry documents and API server
    /// answers (oci-client, kube-core).
    Relay(RelayArgs),
    /// Generate host responses, find where the SDKs disagree, shrink every new kind of
    /// disagreement and save it as a case.
    Fuzz(FuzzArgs),
    /// Turn every exchange of a kwctl session file kwconform runs into a case file.
    ImportKwctl {
        /// A file written by `kwctl run --record-host-capabilities-interactions`.
        session: PathBuf,
        /// Where to write the case files [default: cases/]. Existing files are left alone.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Run one case and show everything: requests, host response, outcomes, views, diff.
    Repro(ReproArgs),
    /// Write a Markdown issue text for an SDK's tracker: a cause of the expectations
    /// list (its smallest case) or one case.
    BugReport(BugReportArgs),
    /// Run the corpus for every Rust × Go SDK pair, and list what each SDK release
    /// changed compared with the previous one.
    Matrix {
        /// Rust SDK releases or checkouts, oldest first, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        rust_sdk: Vec<String>,
        /// Go SDK releases or checkouts, oldest first, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        go_sdk: Vec<String>,
        /// Where matrix.json and matrix.md go [default: reports/latest].
        #[arg(long, value_name = "DIR")]
        report: Option<PathBuf>,
    },
    /// Merge the reports of shards (`run --shard K/N`) into one set of reports.
    Merge {
        /// The shards' report folders.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// Where to write the merged reports [default: reports/latest].
        #[arg(long, value_name = "DIR")]
        report: Option<PathBuf>,
    },
    /// Measure differential executions per second: fresh-serial, batched-serial,
    /// batched-parallel, a run as `run` does it, and the guests' own ceiling.
    Bench(BenchArgs),
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
pub struct FuzzArgs {
    /// Fuzz only this operation (repeatable) [default: every operation].
    #[arg(long = "op", value_parser = parse_op)]
    pub ops: Vec<Op>,
    /// How long to fuzz, e.g. `30s`, `10m`.
    #[arg(long, value_parser = humantime::parse_duration, conflicts_with = "iterations")]
    pub time: Option<Duration>,
    /// How many inputs to try [default: 1000 when --time is not given].
    #[arg(long)]
    pub iterations: Option<u64>,
    /// The seed: the same seed and options give the same inputs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where new cases go [default: cases/fuzz].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where fuzz-summary.json goes [default: reports/latest].
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// A guest as NAME=PATH.wasm (repeatable); replaces the default guests.
    #[arg(
        long = "guest",
        value_name = "NAME=PATH",
        value_parser = parse_guest,
        conflicts_with_all = ["rust_sdk", "go_sdk"]
    )]
    pub guests: Vec<GuestSpec>,
    #[command(flatten)]
    pub sdks: SdkArgs,
    #[command(flatten)]
    pub execution: ExecutionArgs,
    /// Oracle calls one shrink may spend.
    #[arg(long, default_value_t = 2000)]
    pub max_shrink_steps: u32,
    /// Run the guests as they are, without coverage feedback (docs/fuzzing.md).
    #[arg(long)]
    pub no_coverage: bool,
    /// Fuzz what the SDKs send (the operations' inputs) instead of what the host answers.
    #[arg(long, conflicts_with = "no_coverage")]
    pub requests: bool,
}

/// Which SDKs the guests are built against.
#[derive(Args, Clone, Default)]
pub struct SdkArgs {
    /// The Rust SDK: a release (`0.16.0`) or a local checkout's path.
    #[arg(long, value_name = "SPEC")]
    pub rust_sdk: Option<String>,
    /// The Go SDK: a release (`v0.12.0`) or a local checkout's path.
    #[arg(long, value_name = "SPEC")]
    pub go_sdk: Option<String>,
}

#[derive(Args)]
pub struct BenchArgs {
    /// A folder of case files (repeatable) [default: cases/].
    #[arg(long = "cases", value_name = "DIR")]
    pub cases: Vec<PathBuf>,
    /// Cases per batch.
    #[arg(long, value_name = "N", default_value_t = 128, value_parser = clap::value_parser!(u16).range(1..))]
    pub batch_size: u16,
    /// Requests per guest for the ceiling (one warm instance each).
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub ceiling_requests: u32,
    /// Also write the measurements as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(Args)]
pub struct ReproArgs {
    /// The case id.
    pub case: String,
    /// Show only this guest's details (all guests still run).
    #[arg(long, value_name = "NAME")]
    pub guest: Option<String>,
    /// Also show every host call with its timing, and the guests' stderr.
    #[arg(long)]
    pub trace: bool,
    /// Write a self-contained bundle into DIR: the case, the guests' hashes and SDK
    /// versions, the reports and a kwctl session; `run --cases DIR` replays it.
    #[arg(long, value_name = "DIR")]
    pub export: Option<std::path::PathBuf>,
    /// A folder of case files (repeatable) [default: cases/].
    #[arg(long = "cases", value_name = "DIR")]
    pub cases: Vec<PathBuf>,
}

#[derive(Args)]
pub struct BugReportArgs {
    /// A cause id from the expectations list, or a case id.
    pub target: String,
    /// Write the text to FILE (it must not exist yet) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// A folder of case files (repeatable) [default: cases/].
    #[arg(long = "cases", value_name = "DIR")]
    pub cases: Vec<PathBuf>,
    /// The expectations list [default: expectations.json in the first case folder].
    #[arg(long, value_name = "FILE")]
    pub expectations: Option<PathBuf>,
    /// The SDK releases to reproduce with, for a cause the list records for older
    /// releases only [default: the pinned ones].
    #[command(flatten)]
    pub sdks: SdkArgs,
}

#[derive(Args)]
pub struct RelayArgs {
    /// A raw response file, or a folder of them (the rules of `run --raw`).
    #[arg(required_unless_present = "twins", conflicts_with = "twins")]
    pub path: Option<PathBuf>,
    /// The operation the raw responses answer.
    #[arg(long, value_parser = parse_op, default_value = "oci_manifest")]
    pub op: Op,
    /// The SDK function's inputs the raw responses answer, as JSON (a case file's
    /// `input`); needed by every operation but the three OCI ones.
    #[arg(long, value_name = "JSON", value_parser = parse_input)]
    pub input: Option<Input>,
    /// Write each relayed response under DIR (a rejected one as `<name>.host-error`)
    /// instead of printing it; required for a folder. Existing files are left alone.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write a host-relayed twin case file into --out for every registry-raw case under
    /// CASES (ids `<op>/relayed/...`). Existing files are left alone.
    #[arg(long, value_name = "CASES", requires = "out")]
    pub twins: Option<PathBuf>,
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
pub struct CheckArgs {
    /// A folder of case files (repeatable) [default: cases/].
    #[arg(long = "cases", value_name = "DIR")]
    pub cases: Vec<PathBuf>,
    /// The expectations list [default: expectations.json in the first case folder].
    #[arg(long, value_name = "FILE")]
    pub expectations: Option<PathBuf>,
}

#[derive(Args)]
pub struct RunArgs {
    /// A folder of case files, or one case file (repeatable) [default: cases/].
    #[arg(long = "cases", value_name = "DIR")]
    pub cases: Vec<PathBuf>,
    /// Treat every file under DIR as a raw host response for --op; ids are relative paths.
    #[arg(long, value_name = "DIR", conflicts_with = "cases", requires = "op")]
    pub raw: Option<PathBuf>,
    /// The operation of the --raw responses.
    #[arg(long, value_parser = parse_op)]
    pub op: Option<Op>,
    /// The SDK function's inputs of every --raw response, as JSON (a case file's
    /// `input`); needed by every operation but the three OCI ones.
    #[arg(long, value_name = "JSON", value_parser = parse_input, requires = "raw")]
    pub input: Option<Input>,
    /// Run only the cases whose id matches this glob (e.g. 'oci_manifest/*').
    #[arg(long, value_name = "GLOB")]
    pub only: Option<String>,
    /// A guest as NAME=PATH.wasm (repeatable); replaces the default guests. The first
    /// is the reference every other guest is compared with.
    #[arg(
        long = "guest",
        value_name = "NAME=PATH",
        value_parser = parse_guest,
        conflicts_with_all = ["rust_sdk", "go_sdk"]
    )]
    pub guests: Vec<GuestSpec>,
    /// The expectations list [default: expectations.json in the first case folder].
    #[arg(long, value_name = "FILE", conflicts_with = "raw")]
    pub expectations: Option<PathBuf>,
    /// Where to write report.json [default: reports/latest].
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub sdks: SdkArgs,
    /// Pass every response through the real host's relay (oci-client, kube-core) first.
    #[arg(long)]
    pub relay: bool,
    /// Per-invocation deadline of a guest, in seconds (more than 0, at most 3600).
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// Show agreeing cases, applied equivalences and notes too.
    #[arg(short, long, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Print only the final verdict and where the reports are.
    #[arg(short, long)]
    pub quiet: bool,
    /// Run only shard K of N (1-based), a stable slice by case id hash; merge the
    /// shards' reports with `kwconform merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Pass with zero selected cases (e.g. an empty shard) instead of exiting with 2.
    #[arg(long)]
    pub allow_empty: bool,
    /// The waPC host for waPC guests: kwconform's own, or `wasmtime-provider`, the
    /// stack Kubewarden's host uses (trusted guests only; docs/guest-protocol.md).
    #[arg(long, value_enum, default_value_t = WapcHost::Kwconform)]
    pub wapc_host: WapcHost,
    #[command(flatten)]
    pub execution: ExecutionArgs,
}

/// How cases are executed (docs/guest-protocol.md, "Batches").
#[derive(Args, Clone, Copy)]
pub struct ExecutionArgs {
    /// `batched` (several cases of one operation per guest instance; every case that
    /// does not agree is run again fresh, and the fresh result is reported) or `fresh`
    /// (a fresh instance of every guest for every case).
    #[arg(long, value_enum, default_value_t = IsolationArg::Batched)]
    pub isolation: IsolationArg,
    /// Cases per batch.
    #[arg(long, value_name = "N", default_value_t = 128, value_parser = clap::value_parser!(u16).range(1..))]
    pub batch_size: u16,
    /// Worker threads [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum IsolationArg {
    Batched,
    Fresh,
}

impl From<ExecutionArgs> for Execution {
    fn from(args: ExecutionArgs) -> Self {
        let isolation = match args.isolation {
            IsolationArg::Batched => Isolation::Batched { size: args.batch_size.into(), recheck: true },
            IsolationArg::Fresh => Isolation::Fresh,
        };
        Execution { isolation, jobs: args.jobs.map_or(Execution::default().jobs, usize::from) }
    }
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum WapcHost {
    Kwconform,
    WasmtimeProvider,
}

impl From<WapcHost> for WapcHostFlavour {
    fn from(host: WapcHost) -> Self {
        match host {
            WapcHost::Kwconform => WapcHostFlavour::Kwconform,
            WapcHost::WasmtimeProvider => WapcHostFlavour::WasmtimeProvider,
        }
    }
}

fn parse_op(s: &str) -> Result<Op, String> {
    Op::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Op::ALL.iter().map(|o| o.name()).collect();
        format!("unknown operation {s:?}; one of {}", names.join(", "))
    })
}

fn parse_input(s: &str) -> Result<Input, String> {
    match serde_json::from_str(s) {
        Ok(serde_json::Value::Object(input)) => Ok(input),
        Ok(_) => Err("expected a JSON object".into()),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    match s.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0 => {
            Ok(Duration::from_secs_f64(seconds))
        }
        _ => Err(format!("expected a number of seconds above 0 and at most 3600, got {s:?}")),
    }
}

/// A report folder: an existing folder, or a path where one can be made. Checked before
/// any work, so a run never ends by failing to write its reports.
pub fn report_dir(given: Option<PathBuf>, default: PathBuf) -> Result<PathBuf, String> {
    let dir = given.unwrap_or(default);
    if dir.exists() && !dir.is_dir() {
        return Err(format!("--report {} is not a folder", dir.display()));
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("cannot make the report folder {}: {e}", dir.display()))?;
    Ok(dir)
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    let parsed = s.split_once('/').and_then(|(k, n)| Some((k.parse().ok()?, n.parse().ok()?)));
    match parsed {
        Some((index, count)) if 1 <= index && index <= count => Ok(Shard { index, count }),
        _ => Err(format!("expected K/N with 1 <= K <= N, got {s:?}")),
    }
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
        Command::Run(args) => cmd_run::run(&project, args),
        Command::BuildGuests(sdks) => cmd_run::build_guests(&project, &sdks),
        Command::Expectations(ExpectationsCommand::Update { report, file }) => {
            cmd_corpus::update_expectations(&project, report, file)
        }
        Command::Check(args) => cmd_corpus::check(&project, args),
        Command::Relay(args) => cmd_corpus::relay(args),
        Command::Fuzz(args) => cmd_fuzz::fuzz(&project, args),
        Command::Repro(args) => cmd_repro::repro(&project, args),
        Command::BugReport(args) => cmd_repro::bug_report(&project, args),
        Command::Bench(args) => cmd_run::bench(&project, args),
        Command::Matrix { rust_sdk, go_sdk, report } => cmd_run::matrix(&project, &rust_sdk, &go_sdk, report),
        Command::Merge { reports, report } => cmd_run::merge(&project, &reports, report),
        Command::ImportKwctl { session, out } => {
            cmd_corpus::import_kwctl(&session, &out.unwrap_or_else(|| project.cases_dir()))
        }
        Command::ExportKwctl { case, cases, out } => {
            cmd_corpus::export_kwctl(&project, &case, &cases, out.as_deref())
        }
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

pub type CliResult = Result<i32, Box<dyn std::error::Error>>;

pub fn case_roots(project: &Project, given: &[PathBuf]) -> Vec<PathBuf> {
    if given.is_empty() { vec![project.cases_dir()] } else { given.to_vec() }
}

/// The given expectations file, or `expectations.json` in the first case folder if it
/// exists; entries must name loaded cases.
pub fn load_expectations(
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
