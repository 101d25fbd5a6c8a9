//! `report.html`: one self-contained page (no network, no external assets) over the
//! same report model: the expected divergences grouped by cause (each cause expandable
//! to its cases), filters by verdict, operation, tag, cause and free text (also
//! settable in the URL fragment,
//! `#verdict=unexpected&op=oci_manifest&tag=windows&cause=go-last-key-wins&q=digest`),
//! and for each case the host response and its spec verdict, the guests' views side by
//! side with the differing members highlighted, the differences and the host-call trace.

use std::io::{self, Write};

use super::json::Streamed;
use super::model::{Report, ReportHead, ResultSource};

/// The page of a report held in memory.
pub fn html(report: &Report) -> String {
    let mut page = Vec::new();
    write_html(&report.head(), &report.results, &mut page).expect("writing to memory succeeds");
    String::from_utf8(page).expect("the page is UTF-8")
}

/// Writes the page, the report's JSON streamed into it.
pub fn write_html(head: &ReportHead, results: &dyn ResultSource, out: &mut dyn Write) -> io::Result<()> {
    let (before, after) = TEMPLATE.split_once("/*REPORT*/").expect("the template has a place for the report");
    out.write_all(before.as_bytes())?;
    serde_json::to_writer(ScriptSafe(&mut *out), &Streamed::new(head, results))?;
    out.write_all(after.as_bytes())
}

/// Writes JSON inert inside a `<script>` element (see [`script_json`]). serde_json
/// writes string fragments on character boundaries, so each write can be escaped alone.
struct ScriptSafe<'a>(&'a mut dyn Write);

impl Write for ScriptSafe<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match std::str::from_utf8(bytes) {
            Ok(text) => self.0.write_all(script_json(text).as_bytes())?,
            Err(_) => self.0.write_all(bytes)?,
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// JSON that is inert inside a `<script>` element whatever its strings hold: `<`, `>`
/// and `&` only occur inside JSON strings, where `\u003c`, `\u003e` and `\u0026` mean the
/// same, so no `</script>`, `<!--` or `<script` survives; U+2028 and U+2029 too.
pub fn script_json(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

const TEMPLATE: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kwconform report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1f24; }
h1 { font-size: 1.4em; margin: 0 0 .3em; }
.pass { color: #1a7f37; } .fail { color: #cf222e; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { border: 1px solid #d0d7de; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
#filters { display: flex; gap: .6em; flex-wrap: wrap; margin: 1em 0 .5em; align-items: center; }
#cases tr.case { cursor: pointer; }
#cases tr.case:hover { background: #f6f8fa; }
.label { font-weight: 600; font-family: ui-monospace, monospace; }
.unexpected .label { color: #cf222e; } .expected .label, .informational .label { color: #6e7781; }
.agree .label { color: #1a7f37; } .inconclusive .label { color: #9a6700; }
pre { background: #f6f8fa; padding: .5em; overflow: auto; max-height: 30em; margin: .2em 0; font-size: 12px; }
.views { display: flex; gap: 1em; } .views > div { flex: 1; min-width: 0; }
mark { background: #ffd8b5; }
.detail td { background: #fff; }
</style>
</head>
<body>
<h1 id="title"></h1>
<div id="guests"></div>
<table id="totals"></table>
<div id="causes"></div>
<div id="filters">
  <label>result <select id="verdict"><option value="">all</option><option>unexpected</option><option>expected</option><option>agree</option><option>diverge</option><option>crash</option><option>inconclusive</option></select></label>
  <label>op <select id="op"><option value="">all</option></select></label>
  <label>tag <select id="tag"><option value="">all</option></select></label>
  <label>cause <select id="cause"><option value="">all</option></select></label>
  <label>search <input id="q" type="search" placeholder="case id, path, description"></label>
  <span id="shown"></span>
</div>
<table id="cases"><thead><tr><th>result</th><th>op</th><th>case</th><th>what differs</th></tr></thead><tbody></tbody></table>
<script id="report" type="application/json">/*REPORT*/</script>
<script>
"use strict";
const report = JSON.parse(document.getElementById("report").textContent);
const esc = s => String(s).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
const resultLabel = r => r.unexpected ? (r.expectation.status === "unmet" ? "unmet" : r.judgement.status) : r.judgement.status;
const differs = r => {
  const outcomes = Object.entries(r.signature.outcomes).map(([g, o]) => g + " " + o).join(", ");
  const paths = r.signature.diffs.map(d => d.path).join(", ");
  return paths ? outcomes + " at " + paths : outcomes;
};
function header() {
  const t = report.summary.total, pass = t.unexpected === 0;
  document.getElementById("title").innerHTML = `kwconform: <span class="${pass ? "pass" : "fail"}">${pass ? "PASS" : "FAIL"}</span>, ${t.unexpected} unexpected of <span id="total">${t.cases}</span> cases`;
  document.getElementById("guests").textContent = "Guests: " + report.guests.map(g => `${g.name} (${g.sdk} ${g.sdk_version}, ${g.abi})`).join(", ");
  const cols = ["cases", "agree", "diverge", "crash", "inconclusive", "expected", "unexpected"];
  const row = (name, c) => `<tr><td>${esc(name)}</td>${cols.map(k => `<td>${c[k]}</td>`).join("")}</tr>`;
  document.getElementById("totals").innerHTML = `<tr><th>op</th>${cols.map(c => `<th>${c}</th>`).join("")}</tr>` +
    Object.entries(report.summary.by_op).map(([op, c]) => row(op, c)).join("") + row("total", t);
  const fill = (id, values) => { const s = document.getElementById(id); [...new Set(values)].sort().forEach(v => s.add(new Option(v, v))); };
  fill("op", report.results.map(r => r.op));
  fill("tag", report.results.flatMap(r => r.tags));
  fill("cause", report.causes.map(c => c.cause.id));
  causes();
}
/* The expected divergences by cause; a cause's cases are listed when it is opened. */
function causes() {
  const by = report.summary.by_cause, named = Object.keys(by).filter(c => c).length;
  if (!report.summary.total.expected) return;
  const spec = c => [c.spec.follows && "follows the spec: " + c.spec.follows, c.spec.clause].filter(x => x).join(" — ");
  document.getElementById("causes").innerHTML = `<h2>Expected divergences: ${report.summary.total.expected} from ${named} causes</h2>` +
    report.causes.map(({cause: c, severity}) => `<details data-cause="${esc(c.id)}"><summary><b>${esc(c.id)}</b> (${esc(severity)}, ${by[c.id].cases} cases): ${esc(c.title)}</summary>` +
      `<p>${esc(c.reason)}</p>` + (spec(c) ? `<p><b>spec</b>: ${esc(spec(c))}</p>` : "") + (c.upstream ? `<p>upstream: ${esc(c.upstream)}</p>` : "") + `<ul></ul></details>`).join("") +
    (by[""] ? `<p>${by[""].cases} expected divergence(s) point at no cause yet.</p>` : "");
  document.querySelectorAll("#causes details").forEach(d => d.addEventListener("toggle", () => {
    const list = d.querySelector("ul");
    if (!d.open || list.children.length) return;
    list.innerHTML = report.results.filter(r => (r.judgement.causes || []).includes(d.dataset.cause))
      .map(r => `<li>${esc(r.op)} <a href="#cause=${encodeURIComponent(d.dataset.cause)}&q=${encodeURIComponent(r.case)}">${esc(r.case)}</a> ${esc(differs(r))}</li>`).join("");
  }));
}
function matches(r, f) {
  if (f.verdict === "unexpected" && !r.unexpected) return false;
  if (f.verdict === "expected" && !(r.judgement.status === "expected" || r.judgement.status === "informational")) return false;
  if (["agree", "diverge", "crash", "inconclusive"].includes(f.verdict) && r.verdict !== f.verdict) return false;
  if (f.op && r.op !== f.op) return false;
  if (f.tag && !r.tags.includes(f.tag)) return false;
  if (f.cause && !(r.judgement.causes || []).includes(f.cause)) return false;
  if (f.q) {
    const text = [r.case, r.description, differs(r), ...r.tags].join(" ").toLowerCase();
    if (!text.includes(f.q.toLowerCase())) return false;
  }
  return true;
}
function filters() {
  const get = id => document.getElementById(id).value;
  return {verdict: get("verdict"), op: get("op"), tag: get("tag"), cause: get("cause"), q: get("q")};
}
function render() {
  const f = filters(), body = document.querySelector("#cases tbody");
  const shown = report.results.filter(r => matches(r, f));
  body.innerHTML = shown.map((r, i) => `<tr class="case ${r.unexpected ? "unexpected" : r.judgement.status}" data-index="${report.results.indexOf(r)}">` +
    `<td class="label">${esc(resultLabel(r))}</td><td>${esc(r.op)}</td><td>${esc(r.case)}</td><td>${esc(differs(r))}</td></tr>`).join("");
  document.getElementById("shown").innerHTML = `<span id="shown-count">${shown.length}</span> of ${report.results.length} cases`;
  const params = new URLSearchParams(Object.entries(f).filter(([, v]) => v));
  history.replaceState(null, "", params.toString() ? "#" + params : location.pathname);
}
/* A JSON value as text, with the members at `marked` pointers highlighted. */
function json(value, pointer, marked, indent) {
  const pad = "  ".repeat(indent + 1), end = "  ".repeat(indent);
  const mark = (p, text) => marked.has(p) ? `<mark>${text}</mark>` : text;
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    return "[\n" + value.map((v, i) => pad + mark(pointer + "/" + i, json(v, pointer + "/" + i, marked, indent + 1))).join(",\n") + "\n" + end + "]";
  }
  if (value && typeof value === "object") {
    const keys = Object.keys(value);
    if (!keys.length) return "{}";
    return "{\n" + keys.map(k => {
      const p = pointer + "/" + k.replace(/~/g, "~0").replace(/\//g, "~1");
      return pad + mark(p, esc(JSON.stringify(k)) + ": " + json(value[k], p, marked, indent + 1));
    }).join(",\n") + "\n" + end + "}";
  }
  return esc(JSON.stringify(value));
}
function detail(r) {
  const marked = new Set(r.diffs.map(d => d.path));
  const response = r.response.text ?? r.response.base64 ?? ("host error: " + r.response.host_error);
  const views = Object.entries(r.guests).map(([name, g]) => `<div><b>${esc(name)}</b>: ${esc(g.outcome)}${g.kind ? "/" + esc(g.kind) : ""}` +
    (g.error ? `<pre>${esc(g.error)}</pre>` : "") + (g.view !== null ? `<pre>${json(g.view, "/view", marked, 0)}</pre>` : "") + `</div>`).join("");
  const diffs = r.diffs.map(d => `<tr><td>${esc(d.path)}</td>${Object.entries(d.values).map(([g, v]) => `<td>${esc(g)}: ${(d.absent || []).includes(g) ? "absent" : esc(JSON.stringify(v))}</td>`).join("")}</tr>`).join("");
  const calls = Object.entries(r.guests).flatMap(([name, g]) => g.calls.map(c => `<tr><td>${esc(name)}</td><td>${esc(c.binding)}/${esc(c.namespace)}/${esc(c.operation)}</td>` +
    `<td><code>${esc(c.payload.text ?? c.payload.base64)}</code></td><td>${c.at_us} µs</td></tr>`)).join("");
  const causeOf = id => report.causes.find(c => c.cause.id === id);
  const reason = r.judgement.status === "expected" ? `<p>Expected, cause: ${(r.judgement.causes || []).map(id => `<b>${esc(id)}</b>` + (causeOf(id) ? ` (${esc(causeOf(id).severity)}): ${esc(causeOf(id).cause.title)}` : "")).join("; ") || "none recorded yet"}` +
    (r.judgement.detail ? `<br>${esc(r.judgement.detail)}` : "") + `</p>` : "";
  const spec = r.spec ? `<p><b>spec</b>: ${esc(r.spec.summary)}</p>` : "";
  return `<tr class="detail"><td colspan="4"><p>${esc(r.description)}</p>${reason}<b>host response</b><pre>${esc(response)}</pre>${spec}` +
    `<div class="views">${views}</div>` + (diffs ? `<b>differences</b><table>${diffs}</table>` : "") +
    `<b>host calls</b><table>${calls}</table></td></tr>`;
}
document.querySelector("#cases tbody").addEventListener("click", e => {
  const row = e.target.closest("tr.case");
  if (!row) return;
  if (row.nextElementSibling && row.nextElementSibling.classList.contains("detail")) { row.nextElementSibling.remove(); return; }
  row.insertAdjacentHTML("afterend", detail(report.results[Number(row.dataset.index)]));
});
header();
const initial = new URLSearchParams(location.hash.slice(1));
for (const id of ["verdict", "op", "tag", "cause", "q"]) {
  const el = document.getElementById(id);
  if (initial.get(id)) el.value = initial.get(id);
  el.addEventListener("input", render);
}
render();
</script>
</body>
</html>
"##;

#[cfg(test)]
mod tests {
    use super::script_json;

    #[test]
    fn embedded_json_cannot_end_or_comment_out_its_script_element() {
        let json =
            serde_json::to_string(&serde_json::json!({"description": "<!--<script></script>&\u{2028}"}))
                .unwrap();
        let embedded = script_json(&json);
        assert!(!embedded.contains(['<', '>', '&', '\u{2028}']), "{embedded}");
        let back: serde_json::Value = serde_json::from_str(&embedded).unwrap();
        assert_eq!(back["description"], "<!--<script></script>&\u{2028}");
    }
}
