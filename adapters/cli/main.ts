import { Command } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Array, Effect } from "effect"
import { commands } from "./commands.js"

/** The composition root: `ecoupon <command>`. Each command wires the layers it needs. */
const root = Command.make("ecoupon").pipe(
  Command.withDescription("Kiosk-issued electronic coupons: digital twin, hardware bench and production adapter")
)

const about = { name: "ecoupon", version: "0.1.0" }

const cli = Array.isNonEmptyReadonlyArray(commands)
  ? Command.run(root.pipe(Command.withSubcommands(commands)), about)
  : Command.run(root, about)

cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain)
