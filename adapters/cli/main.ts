import { Command, ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { defaultTeardown } from "@effect/platform/Runtime"
import { Effect } from "effect"
import { commands } from "./commands.js"

/** The composition root: `ecoupon <command>`. Each command wires the layers it needs. */
const ecoupon = Command.make("ecoupon").pipe(
  Command.withDescription("Kiosk-issued electronic coupons: digital twin, hardware bench and production adapter"),
  Command.withSubcommands(commands)
)

const cli = Command.run(ecoupon, { name: "ecoupon", version: "0.1.0" })

cli(process.argv).pipe(
  // @effect/cli has already printed what was wrong with the command line (and the usage); the
  // process only needs the conventional exit status 2, not a second, raw report of the same error.
  Effect.catchIf(ValidationError.isValidationError, () => Effect.sync(() => void (process.exitCode = 2))),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({
    // After SIGINT or SIGTERM the runtime exits with 0 for an interruption; a command that finished
    // its own way out and set an exit status (`ecoupon sim`: 130, partial results written) keeps it.
    teardown: (exit, onExit) =>
      defaultTeardown(exit, (code) =>
        onExit(code === 0 && typeof process.exitCode === "number" ? process.exitCode : code)
      )
  })
)
