//! The terminal reporter: one block per case that needs a look, and a summary table.
//! Colours are plain ANSI styles; the caller's stream decides whether they show
//! (anstream strips them when stdout is no terminal or `NO_COLOR` is set).

use std::collections::BTreeMap;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use serde_json::Value;
use similar::TextDiff;

use super::model::{Counts, GuestResultEntry, ReportHead, ResultEntry};
use crate::compare::Verdict;
use crate::excerpt::shown;
use crate::expectations::{Judgement, Signature};
use crate::guest::GuestSummary;

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();
const RED: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
const GREEN: Style = AnsiColor::Green.on_default().bold();

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TerminalOptions {
    /// Show agreeing cases, equivalences and notes too.
    pub verbose: bool,
    /// Show nothing per case: the caller prints only the verdict.
    pub quiet: bool,
}

/// Prints one case's result if it deserves attention (everything with `verbose`).
pub fn render_result(
    out: &mut impl Write,
    r: &ResultEntry,
    guests: &[GuestSummary],
    opts: TerminalOptions,
) -> io::Result<()> {
    if opts.quiet {
        return Ok(());
    }
    let (label, style) = match (&r.judgement, r.verdict) {
        _ if r.unexpected && r.expectation.status == "unmet" => ("UNMET", RED),
        _ if !r.unexpected && !opts.verbose => return Ok(()),
        (Judgement::Agree, _) => ("AGREE", GREEN),
        (Judgement::Expected { .. }, _) => ("EXPECTED", DIM),
        (Judgement::Informational, _) => ("INFO", DIM),
        (Judgement::Unlisted, Verdict::Crash) => ("CRASH", RED),
        (Judgement::Unlisted, _) => ("DIVERGE", RED),
        (Judgement::Changed { .. }, _) => ("CHANGED", RED),
        (Judgement::Stale, _) => ("STALE", RED),
        (Judgement::Inconclusive, _) => ("INCONCLUSIVE", YELLOW),
    };
    writeln!(out, "{style}{label:<12}{style:#} {BOLD}{}{BOLD:#}  {}", r.op.name(), shown(&r.case))?;
    if let Judgement::Expected { causes, detail } = &r.judgement {
        let outcomes: Vec<String> = in_guest_order(&r.guests, guests)
            .map(|(name, g)| format!("{name} {}", outcome_label(g)))
            .collect();
        let paths: Vec<String> = r.diffs.iter().map(|d| shown(&d.path)).collect();
        writeln!(
            out,
            "{DIM}             {}; differs at {}{DIM:#}",
            shown(&outcomes.join(", ")),
            paths.join(", ")
        )?;
        let causes =
            if causes.is_empty() { "(no cause recorded yet)".to_string() } else { causes.join(", ") };
        writeln!(out, "{DIM}             cause: {}{DIM:#}", shown(&causes))?;
        if let Some(detail) = detail {
            writeln!(out, "{DIM}             {}{DIM:#}", shown(detail))?;
        }
        if let Some(spec) = &r.spec {
            writeln!(out, "{DIM}             spec: {}{DIM:#}", shown(&spec.summary))?;
        }
        for problem in &r.expectation.problems {
            writeln!(
                out,
                "{DIM}             the case's expect block no longer holds here: {}{DIM:#}",
                shown(problem)
            )?;
        }
        return Ok(());
    }
    writeln!(out, "{DIM}             {}{DIM:#}", shown(&r.description))?;
    if let Some(spec) = r.spec.as_ref().filter(|_| r.verdict != Verdict::Agree) {
        writeln!(out, "  spec: {}", shown(&spec.summary))?;
    }
    match &r.judgement {
        Judgement::Stale => writeln!(out, "  {RED}stale expectation: now agrees, remove it{RED:#}")?,
        Judgement::Changed { recorded } => {
            writeln!(out, "  {RED}diverges differently than recorded in the expectations list{RED:#}")?;
            let show =
                |s: &Signature| serde_json::to_string_pretty(s).expect("a signature serialises") + "\n";
            let (old, new) = (show(recorded), show(&r.signature));
            let diff = TextDiff::from_lines(&old, &new);
            for line in diff.unified_diff().context_radius(2).header("recorded", "now").to_string().lines() {
                writeln!(out, "      {}", shown(line))?;
            }
        }
        _ => {}
    }
    for problem in &r.expectation.problems {
        writeln!(out, "  {RED}expectation unmet:{RED:#} {}", shown(problem))?;
    }
    let width = label_width(guests);
    for (name, g) in in_guest_order(&r.guests, guests) {
        let error = g.error.as_deref().map(|e| format!(": {}", shown(&one_line(e)))).unwrap_or_default();
        writeln!(out, "  {:<width$} {}{error}", sdk_label(name, guests), shown(&outcome_label(g)))?;
    }
    for d in &r.diffs {
        writeln!(out, "  {BOLD}{}{BOLD:#}", shown(&d.path))?;
        let values = in_guest_order(&d.values, guests).map(|(name, _)| (name, d.value(name).flatten()));
        render_values(out, values, guests)?;
    }
    if opts.verbose {
        for e in &r.equivalences {
            writeln!(out, "  {DIM}{} (equivalent: {}){DIM:#}", shown(&e.path), e.rule.name())?;
        }
        for n in &r.notes {
            writeln!(out, "  {DIM}{} (note: {}){DIM:#}", shown(&n.path), shown(&n.message))?;
            render_values(out, in_guest_order(&n.values, guests).map(|(name, v)| (name, Some(v))), guests)?;
        }
    }
    Ok(())
}

/// Prints each guest's value at a path (`None`: absent there); structured values as a
/// diff against the first.
fn render_values<'a>(
    out: &mut impl Write,
    values: impl Iterator<Item = (&'a String, Option<&'a Value>)>,
    guests: &[GuestSummary],
) -> io::Result<()> {
    let values: Vec<(&String, Option<&Value>)> = values.collect();
    if values.iter().any(|(_, v)| v.is_some_and(|v| v.is_object() || v.is_array())) {
        let pretty = |v: &Option<&Value>| match v {
            None => "absent\n".to_string(),
            Some(v) => serde_json::to_string_pretty(v).expect("a JSON value serialises") + "\n",
        };
        let (first, reference) = values[0];
        for (name, value) in &values[1..] {
            let (old, new) = (pretty(&reference), pretty(value));
            let diff = TextDiff::from_lines(&old, &new);
            let header = diff
                .unified_diff()
                .context_radius(2)
                .header(&sdk_label(first, guests), &sdk_label(name, guests))
                .to_string();
            for line in header.lines() {
                writeln!(out, "      {}", shown(line))?;
            }
        }
        return Ok(());
    }
    let width = label_width(guests);
    for (name, value) in values {
        let text = value.map_or_else(|| "absent".to_string(), Value::to_string);
        writeln!(out, "      {:<width$} {}", sdk_label(name, guests), shown(&text))?;
    }
    Ok(())
}

/// Per-guest entries in the run's guest order (the reference first).
fn in_guest_order<'a, V>(
    map: &'a BTreeMap<String, V>,
    guests: &'a [GuestSummary],
) -> impl Iterator<Item = (&'a String, &'a V)> {
    let known = guests.iter().filter_map(|g| map.get_key_value(&g.name));
    let unknown = map.iter().filter(|(name, _)| !guests.iter().any(|g| &g.name == *name));
    known.chain(unknown)
}

fn label_width(guests: &[GuestSummary]) -> usize {
    guests.iter().map(|g| sdk_label(&g.name, guests).len()).max().unwrap_or(0)
}

/// `rust (kubewarden-policy-sdk 0.17.3)`: every divergence names the SDK.
fn sdk_label(name: &str, guests: &[GuestSummary]) -> String {
    match guests.iter().find(|g| g.name == name) {
        Some(g) => shown(&format!("{name} ({} {})", short_sdk(&g.sdk), g.sdk_version)),
        None => shown(name),
    }
}

fn short_sdk(sdk: &str) -> &str {
    sdk.rsplit('/').next().unwrap_or(sdk)
}

/// `ok/image`, `error`, `engine-error`.
fn outcome_label(g: &GuestResultEntry) -> String {
    match &g.kind {
        Some(kind) => format!("{}/{kind}", g.outcome),
        None => g.outcome.to_string(),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The guests, the per-op table and the totals.
pub fn render_summary(out: &mut impl Write, report: &ReportHead) -> io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "{BOLD}{:<28}{:>7}{:>7}{:>9}{:>7}{:>14}{:>10}{:>12}{BOLD:#}",
        "op", "cases", "agree", "diverge", "crash", "inconclusive", "expected", "unexpected"
    )?;
    let row = |out: &mut dyn Write, name: &str, c: &Counts| {
        let style = if c.unexpected > 0 { RED } else { Style::new() };
        writeln!(
            out,
            "{:<28}{:>7}{:>7}{:>9}{:>7}{:>14}{:>10}{style}{:>12}{style:#}",
            name, c.cases, c.agree, c.diverge, c.crash, c.inconclusive, c.expected, c.unexpected
        )
    };
    for (op, counts) in &report.summary.by_op {
        row(out, op, counts)?;
    }
    row(out, "total", &report.summary.total)?;
    render_causes(out, report)?;
    if !report.summary.equivalences.is_empty() {
        let applied: Vec<String> =
            report.summary.equivalences.iter().map(|(r, n)| format!("{r} ×{n}")).collect();
        writeln!(out, "{DIM}equivalences applied: {} (docs/decoded-view.md){DIM:#}", applied.join(", "))?;
    }
    let per_guest: Vec<String> = report
        .guests
        .iter()
        .map(|g| {
            let total = report.summary.guest_elapsed_us.get(&g.name).copied().unwrap_or(0);
            let n = report.summary.total.cases.max(1) as f64;
            format!("{} {:.2} ms/case", g.name, total as f64 / n / 1000.0)
        })
        .collect();
    writeln!(
        out,
        "{DIM}elapsed {:.2} s ({}){DIM:#}",
        report.summary.elapsed_ms as f64 / 1000.0,
        per_guest.join(", ")
    )?;
    if !report.summary.batch_unstable.is_empty() {
        let cases: Vec<String> = report.summary.batch_unstable.iter().map(|c| shown(c)).collect();
        writeln!(
            out,
            "{YELLOW}batch-unstable: {} case(s) decoded differently batched than fresh (the fresh result is \
             reported): {}{YELLOW:#}",
            cases.len(),
            cases.join(", ")
        )?;
    }
    let count = |kind: &str| report.summary.unexpected_by_kind.get(kind).copied().unwrap_or(0);
    let listing = [count("unlisted"), count("changed"), count("stale"), count("unmet")];
    if listing.iter().any(|&n| n > 0) {
        writeln!(
            out,
            "{YELLOW}{} unlisted, {} changed, {} stale against the expectations list, {} with an unmet expect \
             block.{YELLOW:#} If the SDKs' current behaviour is what you expect, record it with `kwconform \
             expectations update` and point each new entry at a cause (docs/expectations.md).",
            listing[0], listing[1], listing[2], listing[3]
        )?;
    }
    render_verdict(out, report)
}

/// `expected divergences: 312 from 27 causes`, then one line per cause, most severe
/// and most frequent first.
fn render_causes(out: &mut impl Write, report: &ReportHead) -> io::Result<()> {
    let accepted = report.summary.total.expected;
    if accepted == 0 {
        return Ok(());
    }
    let by_cause = &report.summary.by_cause;
    let causes = by_cause.keys().filter(|c| !c.is_empty()).count();
    writeln!(
        out,
        "{DIM}expected divergences: {accepted} from {causes} cause{} (in the expectations list; -v shows each \
         case, summary.md and report.html group them){DIM:#}",
        if causes == 1 { "" } else { "s" }
    )?;
    for entry in &report.causes {
        let cases = by_cause.get(&entry.cause.id).map_or(0, |t| t.cases);
        writeln!(
            out,
            "{DIM}  {:<13}{cases:>5}  {:<38} {}{DIM:#}",
            entry.severity.name(),
            shown(&entry.cause.id),
            shown(&entry.cause.title)
        )?;
    }
    if let Some(tally) = by_cause.get("") {
        writeln!(out, "{YELLOW}  {} expected divergence(s) point at no cause yet{YELLOW:#}", tally.cases)?;
    }
    Ok(())
}

/// `PASS: 0 unexpected of 797 cases`.
pub fn render_verdict(out: &mut impl Write, report: &ReportHead) -> io::Result<()> {
    if report.partial {
        return writeln!(
            out,
            "{YELLOW}INTERRUPTED{YELLOW:#}: {} cases finished ({} unexpected); the reports are partial",
            report.summary.total.cases, report.summary.total.unexpected
        );
    }
    let (verdict, style) = if report.passed() { ("PASS", GREEN) } else { ("FAIL", RED) };
    writeln!(
        out,
        "{style}{verdict}{style:#}: {} unexpected of {} cases",
        report.summary.total.unexpected, report.summary.total.cases
    )
}
