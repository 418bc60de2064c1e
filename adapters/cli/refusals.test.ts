import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Command, ValidationError } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { afterEach, describe, expect, it, vi } from "@effect/vitest"
import { Effect } from "effect"
import { adminCommand } from "./admin-command.js"
import { auditCommand } from "./audit-command.js"
import { dbCommand } from "./db-command.js"
import { serveCommand } from "./serve-command.js"

/**
 * The operators' command line tried as a new user would (issue 9 item 8): a command that only uses a
 * store refuses a missing one (a mistyped path, or a directory without a store) in one line naming
 * --database, and writes nothing there; bad option values are refused in one line naming the option;
 * no stack trace anywhere.
 */
const directories: Array<string> = []
const freshDirectory = () => {
  const directory = mkdtempSync(join(tmpdir(), "ecoupon-refusals-"))
  directories.push(directory)
  return directory
}

afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
  process.exitCode = undefined
  vi.restoreAllMocks()
})

const cli = Command.run(Command.make("ecoupon").pipe(Command.withSubcommands([adminCommand, auditCommand, dbCommand, serveCommand])), { name: "ecoupon", version: "test" })

/** Runs the command line; what it printed (stdout and stderr, as lines) and its exit status. */
const ecoupon = (...args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const printed: Array<string> = []
    const capture = (line: unknown) => void printed.push(...String(line).split("\n").filter((text) => text.trim() !== ""))
    vi.spyOn(console, "log").mockImplementation(capture)
    vi.spyOn(console, "error").mockImplementation(capture)
    process.exitCode = undefined
    yield* cli(["node", "ecoupon", ...args]).pipe(
      Effect.catchIf(ValidationError.isValidationError, () => Effect.sync(() => void (process.exitCode = 2))),
      Effect.provide(NodeContext.layer)
    )
    vi.restoreAllMocks()
    const status = process.exitCode
    process.exitCode = undefined
    return { printed, status }
  })

const noStackTrace = (lines: ReadonlyArray<string>) => expect(lines.filter((line) => /^\s+at |SqlError|Error:/.test(line))).toEqual([])

describe("the operators' command line refuses in one line", () => {
  it.live("a missing store, for every command that only uses one, and writes nothing there", () =>
    Effect.gen(function* () {
      const parent = freshDirectory()
      const mistyped = join(parent, "mistyped", "path")
      const empty = join(parent, "empty")
      mkdirSync(empty)
      const commands = [
        ["audit"],
        ["db", "snapshot"],
        ["admin", "institution", "add", "--name", "Food bank"],
        ["admin", "kiosk", "load-cards", "--kiosk", "ksk_a", "--count", "10"],
        ["admin", "token", "create", "--role", "admin"]
      ]
      for (const command of commands) {
        for (const where of [mistyped, empty]) {
          const { printed, status } = yield* ecoupon(...command, "--database", where)
          expect(printed, command.join(" ")).toHaveLength(1)
          expect(printed[0], command.join(" ")).toMatch(/--database/)
          expect(printed[0]).toContain(`ecoupon admin init --database ${where}`)
          expect(status, command.join(" ")).toBe(1)
          noStackTrace(printed)
        }
      }
      expect(existsSync(join(parent, "mistyped"))).toBe(false)
      expect(readdirSync(empty)).toEqual([])
    }))

  it.live("a bad option value, naming the option", () =>
    Effect.gen(function* () {
      const directory = freshDirectory()
      yield* ecoupon("admin", "init", "--database", directory)
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, RegExp]> = [
        [["admin", "grant", "--user", "usr_a", "--points", "1.5", "--transfer-id", "t1"], /^--points must be a whole number of points; got '1\.5'$/],
        [["admin", "kiosk", "load-cards", "--kiosk", "ksk_a", "--count", "ten"], /^--count must be a whole number; got 'ten'$/],
        [["admin", "merchant", "approve", "--merchant", "not an id"], /^--merchant 'not an id' is refused: /],
        [["admin", "region", "add", "--name", "North", "--institution", "bank"], /^--institution 'bank' is refused: /]
      ]
      for (const [args, expected] of cases) {
        const { printed, status } = yield* ecoupon(...args, "--database", directory)
        expect(printed.find((line) => expected.test(line)), `${args.join(" ")}: ${printed.join(" | ")}`).toBeDefined()
        expect(status).toBe(2)
        noStackTrace(printed)
      }
      const serve = yield* ecoupon("serve", "--port", "80.5", "--database", directory)
      expect(serve.printed.some((line) => /^--port must be a whole number; got '80\.5'$/.test(line))).toBe(true)
    }))
})
