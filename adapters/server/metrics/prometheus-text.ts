/**
 * A small registry of counters and histograms that renders the Prometheus text exposition format
 * (version 0.0.4). Hand-written rather than Effect's `Metric`: Effect's registry is one per process
 * (two servers in one test process would mix their figures) and has no Prometheus renderer. Labels
 * are fixed per family; values are whatever the caller observes, so the caller keeps the label values
 * bounded (route names, status codes, never ids).
 */

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

type Labels = Readonly<Record<string, string>>

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')
const escapeHelp = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

const labelText = (labels: Labels): string => {
  const entries = Object.entries(labels)
  return entries.length === 0 ? "" : `{${entries.map(([name, value]) => `${name}="${escapeLabel(value)}"`).join(",")}}`
}

/** A number as Prometheus writes it (`+Inf`, no exponent surprises for integers). */
export const formatValue = (value: number): string =>
  value === Number.POSITIVE_INFINITY ? "+Inf" : value === Number.NEGATIVE_INFINITY ? "-Inf" : Number.isNaN(value) ? "NaN" : String(value)

const header = (name: string, help: string, type: "counter" | "gauge" | "histogram") => `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`

/** One sample line of a family. */
export interface Sample {
  readonly labels: Labels
  readonly value: number
}

/** A family whose samples are read at scrape time (from the store, say). */
export const renderFamily = (name: string, help: string, type: "counter" | "gauge", samples: ReadonlyArray<Sample>): string =>
  header(name, help, type) + samples.map((sample) => `${name}${labelText(sample.labels)} ${formatValue(sample.value)}\n`).join("")

export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>()
  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels)
    const entry = this.values.get(key)
    if (entry === undefined) this.values.set(key, { labels, value: by })
    else entry.value += by
  }

  value(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0
  }

  render(): string {
    return renderFamily(this.name, this.help, "counter", [...this.values.values()])
  }
}

interface HistogramSeries {
  readonly labels: Labels
  /** Per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Array<number>
  sum: number
  count: number
}

export class Histogram {
  private readonly series = new Map<string, HistogramSeries>()
  /** Upper bounds, ascending. */
  constructor(readonly name: string, readonly help: string, readonly bounds: ReadonlyArray<number>) {}

  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels)
    let series = this.series.get(key)
    if (series === undefined) {
      series = { labels, counts: Array.from({ length: this.bounds.length + 1 }, () => 0), sum: 0, count: 0 }
      this.series.set(key, series)
    }
    let index = this.bounds.findIndex((bound) => value <= bound)
    if (index === -1) index = this.bounds.length
    series.counts[index] = (series.counts[index] ?? 0) + 1
    series.sum += value
    series.count++
  }

  count(labels: Labels = {}): number {
    return this.series.get(labelText(labels))?.count ?? 0
  }

  render(): string {
    let text = header(this.name, this.help, "histogram")
    for (const series of this.series.values()) {
      let cumulative = 0
      const upperBounds = [...this.bounds, Number.POSITIVE_INFINITY]
      upperBounds.forEach((bound, index) => {
        cumulative += series.counts[index] ?? 0
        text += `${this.name}_bucket${labelText({ ...series.labels, le: formatValue(bound) })} ${cumulative}\n`
      })
      text += `${this.name}_sum${labelText(series.labels)} ${formatValue(series.sum)}\n`
      text += `${this.name}_count${labelText(series.labels)} ${series.count}\n`
    }
    return text
  }
}
