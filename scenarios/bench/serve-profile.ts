import { readFileSync } from "node:fs"

/**
 * Where a process's CPU went, from a V8 `.cpuprofile` (`node --cpu-prof`): self time by part of the
 * stack (Node's HTTP and undici, @effect/platform, the Effect runtime, the server's own code, the
 * core, the store, GC) and the functions with the most self time. Lines for the serve benchmark.
 */
interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly hitCount?: number
  readonly children?: ReadonlyArray<number>
}

interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly startTime: number
  readonly endTime: number
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

const partOf = (node: ProfileNode, root: string): string => {
  const { functionName, url } = node.callFrame
  if (url === "") {
    if (functionName === "(idle)") return "idle"
    if (functionName === "(garbage collector)") return "GC"
    return functionName === "(program)" ? "V8 and Node (native)" : "Node native calls (I/O, crypto, encoding)"
  }
  if (/node:(_http|http|net|stream|internal\/(http|streams|stream_base|net))|undici/.test(url)) return "Node HTTP and streams"
  if (url.includes("@effect/platform")) return "@effect/platform (HttpApi, router, schema I/O)"
  if (url.includes("@effect/sql")) return "@effect/sql"
  if (url.includes("sql.js") || url.includes("sql-wasm") || url.startsWith("wasm://")) return "sql.js (SQLite)"
  if (url.includes("/node_modules/pg") || url.includes("postgres")) return "PostgreSQL client"
  if (url.includes("/effect/dist/")) return "Effect runtime and Schema"
  const local = url.startsWith("file://") ? url.slice(7) : url
  if (local.startsWith(`${root}adapters/store/`)) return "store adapter"
  if (local.startsWith(`${root}adapters/`)) return "server (adapters/)"
  if (local.startsWith(`${root}core/`)) return "core"
  if (url.startsWith("node:")) return "Node other"
  return "other"
}

/** Self time in the profile between `windows` (µs on the monotonic clock, which V8's profiles use). */
export const summariseCpuProfile = (path: string, root: string, windows: ReadonlyArray<readonly [number, number]>, top = 15): Array<string> => {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const hits = new Map<number, number>()
  let total = 0
  let atUs = profile.startTime
  let sampledUs = 0
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0
    atUs += delta
    if (!windows.some(([from, to]) => atUs >= from && atUs <= to)) return
    total++
    sampledUs += delta
    hits.set(id, (hits.get(id) ?? 0) + 1)
  })
  const msPerSample = sampledUs / 1000 / Math.max(1, total)
  const parts = new Map<string, number>()
  const functions = new Map<string, number>()
  for (const [id, count] of hits) {
    const node = byId.get(id)
    if (node === undefined) continue
    const part = partOf(node, root)
    parts.set(part, (parts.get(part) ?? 0) + count)
    if (part === "idle") continue
    const file = node.callFrame.url.replace(`file://${root}`, "").replace(/^.*node_modules\//, "")
    const name = `${node.callFrame.functionName || "(anonymous)"} ${file}:${node.callFrame.lineNumber + 1}`
    functions.set(name, (functions.get(name) ?? 0) + count)
  }
  // Inclusive time of the project's own functions: each sample counts once for every one on its stack.
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const inclusive = new Map<string, number>()
  for (const [id, count] of hits) {
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at)
      const url = node?.callFrame.url ?? ""
      if (node === undefined || !url.startsWith(`file://${root}`) || url.includes("/node_modules/")) continue
      const name = `${node.callFrame.functionName || "(anonymous)"} ${url.slice(`file://${root}`.length)}:${node.callFrame.lineNumber + 1}`
      if (seen.has(name)) continue
      seen.add(name)
      inclusive.set(name, (inclusive.get(name) ?? 0) + count)
    }
  }
  const busy = total - (parts.get("idle") ?? 0)
  const share = (count: number) => `${((100 * count) / Math.max(1, busy)).toFixed(1).padStart(5)}%`
  return [
    `${(busy * msPerSample).toFixed(0)} ms on the CPU in the ${(total * msPerSample).toFixed(0)} ms of the measured windows (${total} samples); self time by part:`,
    ...[...parts].filter(([part]) => part !== "idle").sort((a, b) => b[1] - a[1]).map(([part, count]) => `  ${share(count)}  ${part}`),
    `functions with the most self time:`,
    ...[...functions].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, count]) => `  ${share(count)}  ${name}`),
    `the project's functions by inclusive time (on the stack when sampled; the Effect runtime runs most steps outside them):`,
    ...[...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, count]) => `  ${share(count)}  ${name}`)
  ]
}
