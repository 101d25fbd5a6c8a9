//! The compatibility matrix: the corpus for every Rust × Go SDK pair, and per SDK the
//! cases whose decoded view changed from one release to the next (docs/matrix.md).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::case::Case;
use crate::compare::Verdict;
use crate::fuzz::Symptom;
use crate::guest::GuestSpec;
use crate::host::{EngineSetupError, HostEngine, Limits};
use crate::run::{Runner, RunnerError};

/// One SDK release and its built guest module.
#[derive(Clone, Debug)]
pub struct Release {
    pub spec: String,
    pub guest: GuestSpec,
}

#[derive(Clone, Debug, Serialize)]
pub struct PairResult {
    pub rust: String,
    pub go: String,
    pub cases: usize,
    pub agree: usize,
    pub diverge: usize,
    pub crash: usize,
    pub inconclusive: usize,
    /// Divergence classes (signatures with indices folded) and how many cases each.
    pub signatures: BTreeMap<String, usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Drift {
    pub sdk: String,
    pub from: String,
    pub to: String,
    /// Cases whose outcome or decoded view differs between the two releases.
    pub changed: Vec<DriftCase>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DriftCase {
    pub case: String,
    pub paths: Vec<String>,
}

/// The operations one SDK release's guest offers.
#[derive(Clone, Debug, Serialize)]
pub struct Offer {
    pub sdk: String,
    pub release: String,
    pub ops: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Matrix {
    /// Which release offers which operation; a pair runs only the operations both offer
    /// (the others are inconclusive, `not-offered`).
    pub offers: Vec<Offer>,
    pub pairs: Vec<PairResult>,
    pub drift: Vec<Drift>,
}

#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    #[error(transparent)]
    Engine(#[from] EngineSetupError),
    #[error(transparent)]
    Guest(#[from] RunnerError),
}

/// Progress, for a progress bar: `done` of `total` corpus runs.
pub struct MatrixProgress<'a> {
    pub done: usize,
    pub total: usize,
    pub what: &'a str,
}

/// Runs the matrix over `cases`; releases are given oldest first.
pub fn matrix(
    rust: &[Release],
    go: &[Release],
    cases: &[Case],
    module_cache: &Path,
    mut on_progress: impl FnMut(MatrixProgress<'_>),
) -> Result<Matrix, MatrixError> {
    let total = rust.len() * go.len() + rust.len().saturating_sub(1) + go.len().saturating_sub(1);
    let mut done = 0;
    let mut step = |what: &str| {
        done += 1;
        on_progress(MatrixProgress { done, total, what });
    };
    let mut pairs = Vec::new();
    let mut offers = Vec::new();
    for r in rust {
        for g in go {
            let runner = runner(&[named("rust", &r.guest), named("go", &g.guest)], module_cache)?;
            for (guest, release) in runner.guests().iter().zip([r, g]) {
                if !offers.iter().any(|o: &Offer| o.sdk == guest.name && o.release == release.spec) {
                    offers.push(Offer {
                        sdk: guest.name.clone(),
                        release: release.spec.clone(),
                        ops: guest.ops.clone(),
                    });
                }
            }
            let results = runner.run_collect(cases);
            let mut pair = PairResult {
                rust: r.spec.clone(),
                go: g.spec.clone(),
                cases: results.results.len(),
                agree: 0,
                diverge: 0,
                crash: 0,
                inconclusive: 0,
                signatures: BTreeMap::new(),
            };
            for result in &results.results {
                match result.comparison.verdict {
                    Verdict::Agree => pair.agree += 1,
                    Verdict::Diverge => pair.diverge += 1,
                    Verdict::Crash => pair.crash += 1,
                    Verdict::Inconclusive => pair.inconclusive += 1,
                }
                if matches!(result.comparison.verdict, Verdict::Diverge | Verdict::Crash) {
                    let signature = crate::expectations::signature(&result.comparison, &result.runs);
                    *pair
                        .signatures
                        .entry(Symptom::of(result.case.op, &signature, Vec::new()).summary())
                        .or_default() += 1;
                }
            }
            pairs.push(pair);
            step(&format!("rust {} × go {}", r.spec, g.spec));
        }
    }
    let mut drift = Vec::new();
    for (sdk, releases) in [("rust", rust), ("go", go)] {
        for window in releases.windows(2) {
            let (from, to) = (&window[0], &window[1]);
            let runner = runner(&[named("from", &from.guest), named("to", &to.guest)], module_cache)?;
            let changed = runner
                .run_collect(cases)
                .results
                .iter()
                .filter(|r| r.comparison.verdict != Verdict::Agree)
                .map(|r| DriftCase {
                    case: r.case.id.clone(),
                    paths: r
                        .comparison
                        .diffs
                        .iter()
                        .map(|d| d.path.clone())
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect(),
                })
                .collect();
            drift.push(Drift { sdk: sdk.into(), from: from.spec.clone(), to: to.spec.clone(), changed });
            step(&format!("{sdk} {} → {}", from.spec, to.spec));
        }
    }
    Ok(Matrix { offers, pairs, drift })
}

fn named(name: &str, guest: &GuestSpec) -> GuestSpec {
    GuestSpec { name: name.into(), path: guest.path.clone() }
}

fn runner(guests: &[GuestSpec], module_cache: &Path) -> Result<Runner, MatrixError> {
    let engine = HostEngine::new(Limits::default())?.with_module_cache(module_cache.to_path_buf());
    Ok(Runner::new(engine, guests, |_| {})?)
}

impl Matrix {
    /// A self-contained HTML page: the pair table and the drift lists.
    pub fn html(&self) -> String {
        let data = crate::report::script_json(&serde_json::to_string(self).expect("the matrix serialises"));
        MATRIX_PAGE.replace("/*MATRIX*/", &data)
    }

    /// The pair table and the drift lists, in Markdown.
    pub fn markdown(&self) -> String {
        use std::fmt::Write as _;
        let mut md = String::from(
            "## SDK compatibility matrix\n\nAgreeing cases per Rust × Go SDK pair (of all cases; divergence signatures in matrix.json).\n\n",
        );
        let rusts: Vec<&str> =
            self.pairs.iter().map(|p| p.rust.as_str()).collect::<BTreeSet<_>>().into_iter().collect();
        let gos: Vec<&str> =
            self.pairs.iter().map(|p| p.go.as_str()).collect::<BTreeSet<_>>().into_iter().collect();
        let _ = writeln!(md, "| rust \\ go | {} |", gos.join(" | "));
        let _ = writeln!(md, "|---|{}", "---|".repeat(gos.len()));
        for r in &rusts {
            let cells: Vec<String> = gos
                .iter()
                .map(|g| {
                    let p = self.pairs.iter().find(|p| p.rust == *r && p.go == *g).expect("every pair ran");
                    format!("{}/{} agree, {} signatures", p.agree, p.cases, p.signatures.len())
                })
                .collect();
            let _ = writeln!(md, "| {r} | {} |", cells.join(" | "));
        }
        let _ = writeln!(md, "\n### Operations each release offers\n");
        let releases: Vec<String> = self.offers.iter().map(|o| format!("{} {}", o.sdk, o.release)).collect();
        let _ = writeln!(md, "| operation | {} |", releases.join(" | "));
        let _ = writeln!(md, "|---|{}", "---|".repeat(releases.len()));
        for op in crate::case::Op::ALL {
            let cells: Vec<&str> = self
                .offers
                .iter()
                .map(|o| if o.ops.iter().any(|x| x == op.name()) { "yes" } else { "no" })
                .collect();
            let _ = writeln!(md, "| `{op}` | {} |", cells.join(" | "));
        }
        for d in &self.drift {
            let _ = writeln!(
                md,
                "\n### {} {} → {}: {} cases decode differently\n",
                d.sdk,
                d.from,
                d.to,
                d.changed.len()
            );
            for c in &d.changed {
                let _ = writeln!(md, "- `{}`: {}", c.case, c.paths.join(", "));
            }
        }
        md
    }
}

const MATRIX_PAGE: &str = r##"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>kwconform SDK matrix</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; }
table { border-collapse: collapse; } td, th { border: 1px solid #d0d7de; padding: .3em .6em; vertical-align: top; }
th { background: #f6f8fa; } details { margin: .2em 0; } code { font-size: 12px; }
</style></head><body>
<h1>SDK compatibility matrix</h1>
<table id="pairs"></table>
<h2>Release to release</h2>
<div id="drift"></div>
<script id="matrix" type="application/json">/*MATRIX*/</script>
<script>
"use strict";
const m = JSON.parse(document.getElementById("matrix").textContent);
const esc = s => String(s).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
const rusts = [...new Set(m.pairs.map(p => p.rust))], gos = [...new Set(m.pairs.map(p => p.go))];
document.getElementById("pairs").innerHTML = `<tr><th>rust \\ go</th>${gos.map(g => `<th>${esc(g)}</th>`).join("")}</tr>` +
  rusts.map(r => `<tr><th>${esc(r)}</th>` + gos.map(g => {
    const p = m.pairs.find(p => p.rust === r && p.go === g);
    const sigs = Object.entries(p.signatures).map(([s, n]) => `<li>${n} × <code>${esc(s)}</code></li>`).join("");
    return `<td class="pair">${p.agree}/${p.cases} agree<details><summary>${Object.keys(p.signatures).length} signatures</summary><ul>${sigs}</ul></details></td>`;
  }).join("") + "</tr>").join("");
document.getElementById("drift").innerHTML = m.drift.map(d => `<h3>${esc(d.sdk)} ${esc(d.from)} → ${esc(d.to)}: <span class="changed">${d.changed.length}</span> cases decode differently</h3>` +
  (d.changed.length ? `<ul>${d.changed.map(c => `<li><code>${esc(c.case)}</code>: ${esc(c.paths.join(", "))}</li>`).join("")}</ul>` : "")).join("");
</script></body></html>
"##;
