import { escapeHtml } from "../sim/report-svg.js"
import { replayCommandOf } from "./report-console.js"
import type { ScenarioResult } from "./runner.js"
import type { StepRecord } from "./sequence.js"

/**
 * The HTML report: one self-contained page (no scripts, nothing fetched) a person can open from a CI
 * artifact. The verdict and a table of every scenario first, failures on top; then per scenario its
 * given/when/then, every step with what the model expected next to what the system answered, the
 * balances where they part, the audit, and for a failure the replay command to copy.
 */

export interface ReportMeta {
  readonly seed: number
  readonly suite: string
  readonly generatedAt: string
  readonly wallMs: number
}

const css = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:0}h3{font-size:15px;margin:18px 0 6px;color:#454e60}
.meta{color:#5b6476;margin:0 0 18px}
.verdict{display:inline-block;padding:6px 14px;border-radius:6px;font-weight:700;font-size:17px;margin:8px 0 18px}
.pass{background:#dff3e4;color:#14532d}.fail{background:#fde2e1;color:#8a1c1c}.skip{background:#eceef3;color:#4a5163}
table{border-collapse:collapse;width:100%;background:#fff;margin:4px 0 10px}
th,td{border:1px solid #d9dde5;padding:6px 9px;text-align:left;vertical-align:top}
th{background:#eef0f4;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.bad td{background:#fff1f0}
.tag{display:inline-block;min-width:44px;text-align:center;border-radius:4px;padding:1px 6px;font-size:13px;font-weight:700}
section{background:#fff;border:1px solid #d9dde5;border-radius:8px;padding:14px 18px;margin:16px 0}
section.failed{border-left:6px solid #c62828}section.passed{border-left:6px solid #2e7d32}
.head{display:flex;gap:12px;align-items:baseline}\nsummary{cursor:pointer;color:#1f4fa3;font-weight:600;margin:4px 0}
dl{display:grid;grid-template-columns:70px 1fr;gap:2px 10px;margin:10px 0}dt{font-weight:700;color:#454e60}dd{margin:0}
pre{background:#1d2330;color:#f5f6f8;padding:10px 12px;border-radius:6px;white-space:pre-wrap;word-break:break-all;font-size:13px}
.why{background:#fff7e6;border:1px solid #f0c36d;border-radius:6px;padding:8px 12px;white-space:pre-wrap}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px}
.muted{color:#6b7385}
`

const tag = (ok: boolean, skipped = false) =>
  skipped ? '<span class="tag skip">SKIP</span>' : `<span class="tag ${ok ? "pass" : "fail"}">${ok ? "PASS" : "FAIL"}</span>`

const stepRow = (step: StepRecord): string => {
  const bad = step.answer !== step.expected || step.differences.length > 0
  const balances = step.differences.length === 0 ? '<span class="muted">agree</span>' : step.differences.map((d) => escapeHtml(d)).join("<br>")
  return `<tr${bad ? ' class="bad"' : ""}><td class="num">${step.index + 1}</td><td>${escapeHtml(step.text)}</td><td class="mono">${escapeHtml(step.expected)}</td><td class="mono">${escapeHtml(step.answer)}</td><td class="mono">${balances}</td></tr>`
}

/** The whole sheet at the failing step: model and system side by side. */
const sheetTable = (step: StepRecord): string => {
  const names = [...new Set([...Object.keys(step.modelSheet), ...Object.keys(step.sheet)])]
  const rows = names.map((name) => {
    const expected = step.modelSheet[name]
    const actual = step.sheet[name]
    return `<tr${expected === actual ? "" : ' class="bad"'}><td>${escapeHtml(name)}</td><td class="num">${expected ?? "-"}</td><td class="num">${actual ?? "-"}</td></tr>`
  })
  return `<h3>Balances and counts after step ${step.index + 1}</h3><table><tr><th>what</th><th>model expected</th><th>system shows</th></tr>${rows.join("")}</table>`
}

const scenarioSection = (result: ScenarioResult): string => {
  const failing = result.steps.find((step) => step.answer !== step.expected || step.differences.length > 0)
  const search = result.search === undefined ? "" : `<p class="muted">${result.search.runs} model-based run(s); ${result.ok ? "no failure found" : `the failure shrank in ${result.search.shrinks} step(s) to the ${result.steps.length} steps below (fast-check path ${escapeHtml(result.search.path)})`}.</p>`
  const steps = result.steps.length === 0 ? "" : `<h3>Steps${result.search !== undefined ? " (shrunk)" : ""}: what the model expected, what the system answered</h3><table><tr><th>#</th><th>step</th><th>model expected</th><th>system answered</th><th>balances</th></tr>${result.steps.map(stepRow).join("")}</table>`
  const audit = result.end === undefined
    ? `<h3>Audit</h3><p class="muted">${result.ok ? "not run" : "not reached: the run stopped at the failing step"}</p>`
    : `<h3>Audit at the end (faults healed, everything sent)</h3><table>${result.end.lines.map((line) => `<tr><td class="mono">${escapeHtml(line)}</td></tr>`).join("")}</table>`
  const header = `<div class="head">${tag(result.ok, result.skipped !== undefined)}<h2>${escapeHtml(result.name)}</h2><span class="muted">${escapeHtml(result.covers)} · ${escapeHtml(result.layer)} layer · ${(result.durationMs / 1000).toFixed(2)} s</span></div>
<dl><dt>Given</dt><dd>${escapeHtml(result.given)}</dd><dt>When</dt><dd>${escapeHtml(result.when)}</dd><dt>Then</dt><dd>${escapeHtml(result.then)}</dd></dl>${search}`
  if (!result.ok) {
    return `<section id="${escapeHtml(result.name)}" class="failed">${header}<h3>What went wrong</h3><div class="why">${escapeHtml(result.failure ?? "")}</div>
<h3>Replay it exactly</h3><pre>${escapeHtml(replayCommandOf(result))}</pre>${steps}${failing === undefined ? "" : sheetTable(failing)}${audit}</section>`
  }
  if (result.skipped !== undefined) return `<section id="${escapeHtml(result.name)}" class="skipped">${header}<p class="muted">Not run on this layer: ${escapeHtml(result.skipped)}.</p></section>`
  return `<section id="${escapeHtml(result.name)}" class="passed">${header}<details><summary>show the ${result.steps.length} step(s) and the audit</summary>${steps}${audit}</details></section>`
}

export const renderHtmlReport = (results: ReadonlyArray<ScenarioResult>, meta: ReportMeta): string => {
  const failed = results.filter((result) => !result.ok)
  const ordered = [...failed, ...results.filter((result) => result.ok)]
  const layers = [...new Set(results.map((result) => result.layer))].join(", ")
  const skippedCount = results.filter((result) => result.skipped !== undefined).length
  const overview = ordered
    .map((r) => `<tr${r.ok ? "" : ' class="bad"'}><td>${tag(r.ok, r.skipped !== undefined)}</td><td><a href="#${escapeHtml(r.name)}">${escapeHtml(r.name)}</a></td><td>${escapeHtml(r.covers)}</td><td>${escapeHtml(r.layer)}</td><td class="num">${r.steps.length}</td><td class="num">${(r.durationMs / 1000).toFixed(2)} s</td></tr>`)
    .join("")
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>ecoupon scenarios: ${failed.length === 0 ? "all passed" : `${failed.length} failed`}</title><style>${css}</style></head>
<body><main>
<h1>ecoupon scenarios</h1>
<p class="meta">suite ${escapeHtml(meta.suite)} · ${escapeHtml(layers)} layer · seed ${meta.seed} · ${escapeHtml(meta.generatedAt)} · ${(meta.wallMs / 1000).toFixed(1)} s</p>
<div class="verdict ${failed.length === 0 ? "pass" : "fail"}">${failed.length === 0 ? `All ${results.length - skippedCount} passed` : `${failed.length} of ${results.length - skippedCount} failed`}${skippedCount > 0 ? `, ${skippedCount} skipped on this layer` : ""}</div>
<table><tr><th></th><th>scenario</th><th>covers</th><th>layer</th><th>steps</th><th>time</th></tr>${overview}</table>
${ordered.map(scenarioSection).join("\n")}
</main></body></html>
`
}
