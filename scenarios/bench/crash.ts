import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { runCrashCycles } from "../../adapters/store/crash-harness.js"

/**
 * `npm run bench -- crash [kills] [seed]`: the crash-safety test at scale (default 200 kills). A child
 * process runs random ledger and order transactions on the durable store and is SIGKILLed at a random
 * moment; each time the store is reopened and checked: every acknowledged transaction present, none
 * in part, the auditor clean. Prints the tally; exits non-zero if anything was lost.
 */
export const run = async (args: ReadonlyArray<string>): Promise<void> => {
  const kills = Number(args[0] ?? 200)
  const seed = Number(args[1] ?? 1)
  if (!Number.isSafeInteger(kills) || kills <= 0 || !Number.isSafeInteger(seed)) {
    throw new Error(`usage: npm run bench -- crash [kills >= 1] [seed], got ${args.join(" ")}`)
  }
  const directory = mkdtempSync(join(tmpdir(), "ecoupon-crash-bench-"))
  const started = performance.now()
  const tally = await Effect.runPromise(
    runCrashCycles({
      directory,
      kills,
      seed,
      killAfterMs: [0, 600],
      onKill: (kill, tally) => {
        if (kill % 20 === 0) process.stdout.write(`crash: ${kill}/${kills} kills, ${tally.acknowledged} acknowledged, ${tally.lost} lost, ${tally.partial} partial\n`)
      }
    })
  )
  rmSync(directory, { recursive: true, force: true })
  const seconds = (performance.now() - started) / 1000
  process.stdout.write(
    [
      `crash: ${tally.kills} SIGKILLs in ${seconds.toFixed(0)} s (seed ${seed})`,
      `crash: ${tally.acknowledged} acknowledged transactions, ${tally.lost} lost, ${tally.partial} found in part, ${tally.auditFailures} audits failed`,
      ...tally.failures.map((failure) => `crash: ${failure}`),
      `crash: ${tally.lost + tally.partial + tally.auditFailures === 0 ? "every acknowledged transaction survived, none in part, audits clean" : "FAILED"}`
    ].join("\n") + "\n"
  )
  if (tally.lost + tally.partial + tally.auditFailures > 0) process.exitCode = 1
}
