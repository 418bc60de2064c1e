import { adminCommand } from "./admin-command.js"
import { auditCommand } from "./audit-command.js"
import { dbCommand } from "./db-command.js"
import { demoCommand } from "./demo-command.js"
import { emulateCommand } from "./emulate-command.js"
import { hilCommand } from "./hil-command.js"
import { kioskCommand } from "./kiosk-command.js"
import { scenariosCommand } from "./scenarios-command.js"
import { serveCommand } from "./serve-command.js"
import { simCommand } from "./sim-command.js"

/**
 * The subcommands of `ecoupon`, one module each. A command appears here only once it works: `--help`
 * never lists something that is not built. A tuple, so each command keeps its own precise type.
 */
export const commands = [adminCommand, auditCommand, dbCommand, serveCommand, kioskCommand, demoCommand, hilCommand, emulateCommand, scenariosCommand, simCommand] as const
