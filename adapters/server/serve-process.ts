import { type ChildProcess, spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

/**
 * `ecoupon serve` as its own process, for the tests that signal it (SIGTERM with requests in flight,
 * SIGKILL under load) and the serve benchmark: started from the sources with tsx, on a port the OS
 * chooses; answers its base URL and, on a fresh store, the bootstrap admin token it printed.
 * `database` is a directory or a postgres:// URL.
 */
const mainPath = fileURLToPath(new URL("../cli/main.ts", import.meta.url))
const projectRoot = fileURLToPath(new URL("../../", import.meta.url))
const READY_TIMEOUT_MS = 60_000

export interface ServeProcess {
  readonly child: ChildProcess
  readonly baseUrl: string
  /** The bootstrap token, when this start made one. */
  readonly token: string | undefined
  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  readonly output: Array<string>
  /** What it wrote to stderr (its JSON log), line by line. */
  readonly logLines: Array<string>
}

export interface ServeOptions {
  /** Default demo (simulated in the process); http reads the gateways' variables from `env`. */
  readonly gateways?: "demo" | "http"
  /** Added to this process's environment (ECOUPON_MASTER_KEY is emptied unless given here). */
  readonly env?: Readonly<Record<string, string>>
  /** Node's own options before the entry point, e.g. --cpu-prof. */
  readonly nodeArgs?: ReadonlyArray<string>
}

export const startServe = (database: string, options: ServeOptions = {}): Promise<ServeProcess> =>
  new Promise((resolve, reject) => {
    const args = [...(options.nodeArgs ?? []), "--import", "tsx", mainPath, "serve", "--database", database, "--port", "0", "--gateways", options.gateways ?? "demo", "--rate-limit", "0"]
    const child = spawn(process.execPath, args, {
      cwd: projectRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ECOUPON_MASTER_KEY: "", ...options.env }
    })
    const output: Array<string> = []
    const logLines: Array<string> = []
    const exited = new Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>((done) => child.once("exit", (code, signal) => done({ code, signal })))
    let token: string | undefined
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`serve did not start within ${READY_TIMEOUT_MS} ms:\n${output.join("\n")}`))
    }, READY_TIMEOUT_MS)
    createInterface({ input: child.stderr }).on("line", (line) => {
      output.push(line)
      logLines.push(line)
    })
    createInterface({ input: child.stdout }).on("line", (line) => {
      output.push(line)
      const minted = /^\s+(eo_\S+)$/.exec(line)
      if (minted !== null) token = minted[1]
      const listening = /listening on (http:\/\/[0-9.]+:\d+)/.exec(line)
      if (listening !== null) {
        clearTimeout(timer)
        resolve({ child, baseUrl: listening[1] ?? "", token, exited, output, logLines })
      }
    })
    void exited.then(({ code }) => {
      clearTimeout(timer)
      reject(new Error(`serve exited (${code}) before listening:\n${output.join("\n")}`))
    })
  })
