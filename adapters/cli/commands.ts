import type { Command } from "@effect/cli"
import type { CommandExecutor, FileSystem, Path, Terminal } from "@effect/platform"
import { adminCommand } from "./admin-command.js"
import { auditCommand } from "./audit-command.js"
import { dbCommand } from "./db-command.js"
import { emulateCommand } from "./emulate-command.js"
import { hilCommand } from "./hil-command.js"
import { simCommand } from "./sim-command.js"

/** What every command may ask of the environment: the Node context provided in `main.ts`. */
export type CliEnvironment = CommandExecutor.CommandExecutor | FileSystem.FileSystem | Path.Path | Terminal.Terminal

// Each command's own config type differs, so the list is typed loosely on that one parameter.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommand = Command.Command<string, CliEnvironment, unknown, any>

/**
 * The subcommands of `ecoupon`, one module each. A command appears here only once it works: `--help`
 * never lists something that is not built.
 */
export const commands: ReadonlyArray<AnyCommand> = [adminCommand, auditCommand, dbCommand, hilCommand, emulateCommand, simCommand]
