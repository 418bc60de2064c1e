import { spawnSync } from "node:child_process"
import { closeSync, openSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Wiring } from "./fixtures.js"

/**
 * Whether socat is on this machine. The tests that wire a driver to an emulator through a real pty
 * pair need it (CI installs it); on a machine without it they are skipped, and the run says so in one
 * line (test files run in several workers: a marker per run, keyed by the runner's pid, keeps it one).
 */
export const socatAvailable: boolean = spawnSync("socat", ["-V"], { stdio: "ignore" }).status === 0

if (!socatAvailable) {
  try {
    closeSync(openSync(join(tmpdir(), `ecoupon-socat-skip-notice-${process.ppid}`), "wx"))
    process.stderr.write("pty tests skipped: socat is not installed (apt-get install socat to run them)\n")
  } catch {
    // Another worker of this run has said it already.
  }
}

/** The wirings this machine can test: the in-process mock pair always, a socat pty pair when there is socat. */
export const availableWirings: ReadonlyArray<Wiring> = socatAvailable ? ["mock", "pty"] : ["mock"]
