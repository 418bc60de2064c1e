/**
 * `npm run bench -- <name> [args]`: runs one benchmark and prints its figures. Each benchmark is a
 * module exporting `run(args)`; the list below is the whole catalogue.
 */
const benches: Record<string, { readonly about: string; readonly load: () => Promise<{ run: (args: ReadonlyArray<string>) => Promise<void> }> }> = {
  ledger: { about: "posted transfers per second through the ledger on in-memory sql.js and native SQLite (both by default), one per transaction (CPU per transfer, its SQL floor on sql.js and native SQLite) and batched [transfers] [batch] [sqljs|native|both] [no-floor]", load: () => import("./ledger.js") },
  hil: { about: "CRT-591 status exchanges driver to emulator over a socat pty: overhead p50/p99, memory [exchanges]", load: () => import("./hil.js") },
  store: { about: "durable embedded store vs PostgreSQL: ledger tx/s with concurrent writers, fsyncs/tx [seconds] [writers]", load: () => import("./store.js") },
  sim: { about: "fleet simulator at scale: journeys/s, CPU per journey, statements per journey, the SQL floor of the same statements on sql.js and native SQLite and the ratio to it, peak RSS; on native SQLite, sql.js with sqljs [kiosks] [days] [customers/kiosk/day] [seed] [spans] [no-audit] [no-floor] [sqljs]", load: () => import("./sim.js") },
  serve: { about: "ecoupon serve under 16 then 64 kiosks running issuance cycles over HTTP, embedded store then PostgreSQL: cycles/s, p50/p99, the ratio to the HTTP floor of the same stack, where a cycle's time goes, pgbench -N TPS [seconds] [kiosks,...] [profile] [no-pg]", load: () => import("./serve.js") },
  kiosk: { about: "one kiosk agent on sim hardware with instant mechanics driven through its touchscreen by headless Chromium: purchases per minute, tap-to-next-screen latency p50/p95 [seconds]", load: () => import("./kiosk.js") },
  scenarios: { about: "model-based scenario runs (issue 11) on the sim layer over worker threads: runs/s against 1,000 runs in <= 60 s, CPU per run, load average; with breakdown (or when the target is missed) time and SQL statements per command kind [runs] [threads] [max-commands] [seed] [breakdown]", load: () => import("./scenarios.js") },
  crash: { about: "SIGKILL a writer on the durable store and check every acknowledged transaction survives [kills] [seed]", load: () => import("./crash.js") }
}

const [name, ...args] = process.argv.slice(2)
const bench = name === undefined ? undefined : benches[name]
if (bench === undefined) {
  const list = Object.entries(benches).map(([key, { about }]) => `  ${key.padEnd(10)} ${about}`).join("\n")
  process.stderr.write(`usage: npm run bench -- <name> [args]\n\nbenchmarks:\n${list || "  (none yet)"}\n`)
  process.exit(name === undefined ? 0 : 2)
} else {
  await (await bench.load()).run(args)
}
