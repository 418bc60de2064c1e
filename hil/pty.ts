import { type ChildProcess, spawn } from "node:child_process"
import { Data, Effect, type Scope } from "effect"

/**
 * A pair of pseudo-terminals joined by socat (`socat -d -d pty,raw,echo=0 pty,raw,echo=0`): a
 * null-modem cable in software. The driver opens one end, the emulator the other. A pty does no
 * pacing: bytes arrive as fast as the kernel moves them, so wire timing is the emulator's job.
 */

export interface PtyPair {
  readonly pathA: string
  readonly pathB: string
  readonly close: () => Promise<void>
}

export class PtyError extends Data.TaggedError("PtyError")<{ readonly detail: string }> {
  override get message() {
    return `cannot make a socat pty pair: ${this.detail}`
  }
}

const PTY_LINE = /PTY is (\S+)/g

/** Starts socat and resolves once both pty paths are known and socat is moving data. */
export const openPtyPair = (options: { readonly timeoutMs?: number; readonly socatPath?: string } = {}): Promise<PtyPair> =>
  new Promise((resolve, reject) => {
    const child = spawn(options.socatPath ?? "socat", ["-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"], {
      stdio: ["ignore", "ignore", "pipe"]
    })
    // If this process ends without closing the pair (a crash, an unhandled error), socat goes too.
    const killOnExit = () => child.kill("SIGKILL")
    process.once("exit", killOnExit)
    child.once("exit", () => process.removeListener("exit", killOnExit))
    let stderr = ""
    let settled = false
    const fail = (detail: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      child.kill("SIGKILL")
      reject(new PtyError({ detail }))
    }
    const timer = setTimeout(() => fail(`socat did not report two ptys within ${options.timeoutMs ?? 5000} ms: ${stderr.trim()}`), options.timeoutMs ?? 5000)
    child.on("error", (error: NodeJS.ErrnoException) =>
      fail(error.code === "ENOENT" ? "socat is not installed (apt-get install socat)" : error.message)
    )
    child.on("exit", (code) => fail(`socat exited with code ${code}: ${stderr.trim()}`))
    child.stderr?.setEncoding("utf8")
    child.stderr?.on("data", (text: string) => {
      // socat keeps logging at -d -d; only the start-up lines matter and the log must not grow.
      if (settled || stderr.length > 16_384) return
      stderr += text
      const paths = [...stderr.matchAll(PTY_LINE)].map((m) => m[1] ?? "")
      const [pathA, pathB] = paths
      if (pathA !== undefined && pathB !== undefined && stderr.includes("starting data transfer loop")) {
        settled = true
        clearTimeout(timer)
        child.stderr?.resume()
        resolve({ pathA, pathB, close: () => stop(child) })
      }
    })
  })

const stop = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => child.kill("SIGKILL"), 2000)
    child.once("exit", () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill("SIGTERM")
  })

/** The pair as a scoped resource: socat stops when the scope closes. */
export const ptyPair = (options?: { readonly timeoutMs?: number }): Effect.Effect<PtyPair, PtyError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => openPtyPair(options),
      catch: (error) => (error instanceof PtyError ? error : new PtyError({ detail: String(error) }))
    }),
    (pair) => Effect.promise(() => pair.close())
  )
