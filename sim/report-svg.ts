/**
 * Small SVG charts for the fleet report: a bar chart, a multi-line chart and a horizontal bar chart,
 * each a self-contained `<svg>` string with its axes, labels and a legend. No scripts, no external
 * fonts: the report opens from a file anywhere.
 */

export const PALETTE = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d", "#7c3aed"] as const

export const escapeHtml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

const fmt = (n: number): string => (Math.abs(n) >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : Math.abs(n) >= 1e4 ? `${(n / 1e3).toFixed(0)}k` : String(Math.round(n)))

/** A "nice" top of scale at or above `max`. */
const niceMax = (max: number): number => {
  if (max <= 0) return 1
  const magnitude = 10 ** Math.floor(Math.log10(max))
  for (const step of [1, 1.2, 1.6, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (step * magnitude >= max) return step * magnitude
  return 10 * magnitude
}

interface Frame {
  readonly width: number
  readonly height: number
  readonly left: number
  readonly right: number
  readonly top: number
  readonly bottom: number
}

const frame: Frame = { width: 760, height: 280, left: 56, right: 16, top: 16, bottom: 40 }

const yAxis = (f: Frame, top: number, label: string): string => {
  const plotH = f.height - f.top - f.bottom
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((share) => {
    const y = f.top + plotH * (1 - share)
    return `<line x1="${f.left}" x2="${f.width - f.right}" y1="${y}" y2="${y}" stroke="#e5e7eb"/><text x="${f.left - 6}" y="${y + 4}" text-anchor="end" font-size="11" fill="#6b7280">${fmt(top * share)}</text>`
  })
  return `${ticks.join("")}<text x="12" y="${f.top + plotH / 2}" transform="rotate(-90 12 ${f.top + plotH / 2})" text-anchor="middle" font-size="11" fill="#374151">${escapeHtml(label)}</text>`
}

const legend = (f: Frame, names: ReadonlyArray<string>): string =>
  names
    .map((name, i) => {
      const x = f.left + (i % 6) * 118
      const y = f.height - 10 - Math.floor(i / 6) * 0
      return `<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 14}" y="${y}" font-size="11" fill="#374151">${escapeHtml(name.slice(0, 16))}</text>`
    })
    .join("")

/** Grouped bars per category (e.g. per day), one colour per series. */
export const barChart = (options: {
  readonly categories: ReadonlyArray<string>
  readonly series: ReadonlyArray<{ readonly name: string; readonly values: ReadonlyArray<number> }>
  readonly yLabel: string
}): string => {
  const f = frame
  const { categories, series } = options
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)))
  const plotW = f.width - f.left - f.right
  const plotH = f.height - f.top - f.bottom
  const groupW = plotW / Math.max(1, categories.length)
  const barW = Math.max(1, (groupW * 0.8) / Math.max(1, series.length))
  const bars = series.flatMap((s, si) =>
    s.values.map((value, ci) => {
      const h = (Math.max(0, value) / max) * plotH
      const x = f.left + ci * groupW + groupW * 0.1 + si * barW
      return `<rect x="${x.toFixed(1)}" y="${(f.top + plotH - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${escapeHtml(`${s.name}, ${categories[ci] ?? ""}: ${value}`)}</title></rect>`
    })
  )
  const step = Math.max(1, Math.ceil(categories.length / 15))
  const labels = categories
    .map((c, i) => (i % step === 0 ? `<text x="${(f.left + i * groupW + groupW / 2).toFixed(1)}" y="${f.top + plotH + 14}" text-anchor="middle" font-size="11" fill="#6b7280">${escapeHtml(c)}</text>` : ""))
    .join("")
  return `<svg viewBox="0 0 ${f.width} ${f.height}" width="${f.width}" height="${f.height}" xmlns="http://www.w3.org/2000/svg" role="img">${yAxis(f, max, options.yLabel)}${bars.join("")}${labels}${legend(f, series.map((s) => s.name))}</svg>`
}

/** Lines over a numeric x (virtual time), one per series; x labels from `xLabel`. */
export const lineChart = (options: {
  readonly series: ReadonlyArray<{ readonly name: string; readonly points: ReadonlyArray<readonly [number, number]> }>
  readonly xRange: readonly [number, number]
  readonly xLabel: (x: number) => string
  readonly xTicks: ReadonlyArray<number>
  readonly yLabel: string
  readonly legendMax?: number
}): string => {
  const f = frame
  const [x0, x1] = options.xRange
  const max = niceMax(Math.max(0, ...options.series.flatMap((s) => s.points.map(([, y]) => y))))
  const plotW = f.width - f.left - f.right
  const plotH = f.height - f.top - f.bottom
  const sx = (x: number) => f.left + ((x - x0) / Math.max(1, x1 - x0)) * plotW
  const sy = (y: number) => f.top + plotH * (1 - y / max)
  const lines = options.series.map((s, i) => {
    const d = s.points.map(([x, y], j) => `${j === 0 ? "M" : "L"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join("")
    return `<path d="${d}" fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="1.5" stroke-opacity="0.85"><title>${escapeHtml(s.name)}</title></path>`
  })
  const ticks = options.xTicks
    .map((x) => `<text x="${sx(x).toFixed(1)}" y="${f.top + plotH + 14}" text-anchor="middle" font-size="11" fill="#6b7280">${escapeHtml(options.xLabel(x))}</text>`)
    .join("")
  const names = options.series.slice(0, options.legendMax ?? 6).map((s) => s.name)
  return `<svg viewBox="0 0 ${f.width} ${f.height}" width="${f.width}" height="${f.height}" xmlns="http://www.w3.org/2000/svg" role="img">${yAxis(f, max, options.yLabel)}${lines.join("")}${ticks}${legend(f, names)}</svg>`
}

/** Horizontal bars, largest first; negative values drawn to the left of a zero line. */
export const hbarChart = (options: { readonly rows: ReadonlyArray<readonly [string, number]>; readonly unit: string }): string => {
  const rows = [...options.rows].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
  const rowH = 22
  const labelW = 200
  const width = 760
  const height = Math.max(1, rows.length) * rowH + 24
  const maxAbs = Math.max(1, ...rows.map(([, v]) => Math.abs(v)))
  const hasNegative = rows.some(([, v]) => v < 0)
  const barSpace = width - labelW - 90
  const zero = labelW + (hasNegative ? barSpace / 2 : 0)
  const scale = (hasNegative ? barSpace / 2 : barSpace) / maxAbs
  const body = rows
    .map(([name, value], i) => {
      const y = 8 + i * rowH
      const w = Math.abs(value) * scale
      const x = value < 0 ? zero - w : zero
      return `<text x="${labelW - 8}" y="${y + 14}" text-anchor="end" font-size="12" fill="#374151">${escapeHtml(name)}</text><rect x="${x.toFixed(1)}" y="${y + 3}" width="${Math.max(1, w).toFixed(1)}" height="${rowH - 8}" fill="${value < 0 ? "#dc2626" : PALETTE[i % PALETTE.length]}"/><text x="${(value < 0 ? zero + 6 : x + w + 6).toFixed(1)}" y="${y + 14}" font-size="11" fill="#374151">${escapeHtml(`${value.toLocaleString("en-US")} ${options.unit}`)}</text>`
    })
    .join("")
  const axis = `<line x1="${zero}" x2="${zero}" y1="4" y2="${height - 16}" stroke="#9ca3af"/>`
  return rows.length === 0
    ? `<p class="none">none</p>`
    : `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg" role="img">${axis}${body}</svg>`
}
