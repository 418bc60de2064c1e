import { Command, Options } from "@effect/cli"
import { integerOption } from "./option-values.js"
import { HttpServer } from "@effect/platform"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { Cause, Clock, Config, Console, Context, Effect, Layer, Logger, LogLevel, Option } from "effect"
import { formatReport } from "../../core/domain/audit.js"
import { SimServicesLive } from "../../sim/layers.js"
import { SimProvidersControl } from "../../sim/providers.js"
import { SimSmsControl } from "../../sim/sms.js"
import { bootstrapAdminToken } from "../server/bootstrap-token.js"
import { ApiKeys } from "../server/credentials/api-keys.js"
import { managementServerLive } from "../server/management-server.js"
import { setUpDemoDeployment } from "./demo-deployment.js"
import { DemoGateways } from "../server/demo-gateways.js"
import { demoGatewaysOf } from "./gateways-layer.js"
import { auditNow, countersLine, type DemoCounters, demoBinCapacity, demoCardsPerKiosk, runDemoWorld, startDemoKiosks } from "./demo-fleet.js"
import { servePhonePage } from "./demo-phone-page.js"

/**
 * `ecoupon demo` (what `npm start` runs): a live deployment on this machine. The management server
 * (`ecoupon serve` with the demo gateways) on a fresh embedded store, a small deployment set up on
 * it, a kiosk agent per kiosk on sim hardware talking to the server over HTTP with its own key,
 * simulated customers tapping through every touchscreen but the first at an accelerated pace, and
 * a phone page showing the text messages the demo SMS gateway delivered. It prints the dashboard's
 * URL and a token to log in with, the first kiosk's touchscreen and the phone page, so a person can
 * walk a purchase by hand. Ctrl-C (or SIGTERM) closes the door to customers, lets those at a screen
 * finish (at most about a second), stops the agents, audits the store and prints the verdict (exit 1
 * if it fails), stops the server and removes the temporary store.
 *
 * Decision: every run starts on a fresh store in a temporary directory, removed at exit, so a rerun
 * always works and never inherits a half-finished deployment; `--database DIR` keeps it instead (the
 * directory must be new or empty), for `ecoupon audit --database DIR` afterwards.
 */

const DOOR_CLOSING_MAX_MS = 1_200
const STATUS_EVERY_MS = 30_000

const kiosks = integerOption("kiosks").pipe(Options.withDescription("kiosks in the deployment, 1 to 20 (the first is left for you)"), Options.withDefault(4))
const port = integerOption("port").pipe(
  Options.withDescription(
    "the server's TCP port; the phone page takes the next one and the touchscreens the ones after it (default: $ECOUPON_PORT, else 8080; 0 lets the system choose every port)"
  ),
  Options.withFallbackConfig(Config.integer("ECOUPON_PORT")),
  Options.withDefault(8080)
)
const seed = integerOption("seed").pipe(Options.withDescription("seeds the simulated customers, devices and merchants"), Options.withDefault(1))
const database = Options.text("database").pipe(
  Options.withDescription("keep the store in this directory (new or empty) instead of a temporary one removed at exit"),
  Options.optional
)

class DemoRefusal {
  readonly _tag = "DemoRefusal"
  constructor(readonly message: string) {}
}

interface DemoOptions {
  readonly kiosks: number
  readonly port: number
  readonly seed: number
  readonly database: Option.Option<string>
}

const HOST = "127.0.0.1"

/** The store's directory: a fresh temporary one (removed when the scope closes), or the one given. */
const storeDirectory = (database: Option.Option<string>) =>
  Option.match(database, {
    onNone: () =>
      Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "ecoupon-demo-"))),
        (directory) => Effect.sync(() => rmSync(directory, { recursive: true, force: true }))
      ),
    onSome: (given) =>
      Effect.suspend(() => {
        const directory = resolve(given)
        if (existsSync(directory) && readdirSync(directory).length > 0) {
          return Effect.fail(new DemoRefusal(`--database ${given} is not empty; the demo sets up a deployment of its own: give a new directory, or leave --database out`))
        }
        mkdirSync(directory, { recursive: true })
        return Effect.succeed(directory)
      })
  })

/** Set when the audit at the end failed: the process exits 1 after everything has closed. */
let auditFailed = false

const runDemo = (options: DemoOptions) =>
  Effect.gen(function* () {
    const startedMs = yield* Clock.currentTimeMillis
    const directory = yield* storeDirectory(options.database)

    const outside = yield* Layer.build(SimServicesLive({ seed: options.seed, sms: { deliveryMs: 800 } }))
    const sms = Context.get(outside, SimSmsControl)
    const providers = Context.get(outside, SimProvidersControl)

    const server = yield* Layer.build(
      managementServerLive({ target: { _tag: "Embedded", directory: join(directory, "store") }, host: HOST, port: options.port, gateways: Layer.succeedContext(Context.add(outside, DemoGateways, demoGatewaysOf(sms, providers))) })
    ).pipe(Effect.mapError((error) => new DemoRefusal(`the server could not start: ${error.message}`)))
    const address = Context.get(server, HttpServer.HttpServer).address
    const baseUrl = address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}` : ""
    const inServer = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, Layer.mergeAll(Layer.succeedContext(server), ApiKeys.Default.pipe(Layer.provide(Layer.succeedContext(server)))))

    const token = yield* inServer(bootstrapAdminToken)
    const deployment = yield* inServer(setUpDemoDeployment({ kiosks: options.kiosks, cardsPerKiosk: demoCardsPerKiosk, binCapacity: demoBinCapacity })).pipe(
      Effect.mapError((error) => new DemoRefusal(`the demo deployment could not be set up: ${error.message}`))
    )
    for (const merchant of deployment.merchants) yield* providers.setCatalog(merchant.id, merchant.offers)

    // Runs after the agents have stopped and before the server does: the verdict on what happened.
    yield* Effect.addFinalizer(() =>
      inServer(auditNow).pipe(
        Effect.flatMap((report) =>
          Effect.zipRight(
            Console.log(`\n${formatReport(report)}`),
            Effect.sync(() => void (auditFailed = !report.ok))
          )
        ),
        Effect.catchAllCause((cause) => Effect.zipRight(Console.error(`ecoupon demo: the audit could not run: ${Cause.pretty(cause).split("\n")[0]}`), Effect.sync(() => void (auditFailed = true))))
      )
    )

    const phoneUrl = yield* servePhonePage(sms, HOST, options.port === 0 ? 0 : options.port + 1)
    const running = yield* startDemoKiosks({
      deployment,
      baseUrl,
      stateDirectory: join(directory, "kiosks"),
      seed: options.seed,
      firstUiPort: options.port === 0 ? 0 : options.port + 2
    }).pipe(Effect.mapError((error) => new DemoRefusal(`a kiosk agent could not start: ${error.message}`)))

    const counters: DemoCounters = { bought: 0, returned: 0, gaveUp: 0, redeemed: 0, maintenance: 0, priceChanges: 0 }
    const door = { open: true, visiting: 0 }
    // Closing: nobody new comes in; whoever is at a screen finishes (bounded), then the scope goes on.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        door.open = false
        yield* Console.log("\necoupon demo: stopping: customers finish their visit, the kiosks stop, then the audit")
        yield* Effect.sleep(50).pipe(Effect.repeat({ until: () => door.visiting === 0 }), Effect.timeout(DOOR_CLOSING_MAX_MS), Effect.ignore)
      })
    )
    yield* inServer(runDemoWorld({ kiosks: running, deployment, sms, providers, seed: options.seed, counters, door }))

    const first = running[0]
    const lines = [
      "",
      `ecoupon demo: a live deployment (${options.kiosks} kiosks, ${deployment.merchants.length} merchants; store in ${directory}${Option.isNone(options.database) ? ", removed at exit" : ""})`,
      "",
      `  Fleet dashboard   ${baseUrl}/`,
      Option.match(token, { onNone: () => "  Log in with       (the store already had an admin token)", onSome: (t) => `  Log in with       ${t}` }),
      first === undefined ? "" : `  Touchscreen       ${first.agent.uiUrl}   (${first.kiosk.name}: yours; customers are simulated at the others)`,
      `  Phone             ${phoneUrl}   (the codes the demo SMS gateway delivered)`,
      `  API docs          ${baseUrl}/docs`,
      "",
      "  Walk a purchase: tap Start on the touchscreen, type any 010 number, read the code on the phone page.",
      "  Ctrl-C stops it and prints the audit.",
      ""
    ]
    yield* Console.log(lines.join("\n"))
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.zipRight(
          Effect.sleep(STATUS_EVERY_MS),
          Effect.flatMap(Clock.currentTimeMillis, (nowMs) => Console.log(countersLine(counters, nowMs, startedMs)))
        )
      )
    )
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    // The console is for the URLs, the status lines and the audit; warnings and errors still show.
    Logger.withMinimumLogLevel(LogLevel.Warning)
  )

export const demoCommand = Command.make("demo" as string, { kiosks, port, seed, database }, (options) => {
  if (options.kiosks < 1 || options.kiosks > 20) return Effect.zipRight(Console.error(`ecoupon demo: --kiosks ${options.kiosks} is out of range; give 1 to 20`), Effect.sync(() => void (process.exitCode = 2)))
  if (options.port < 0 || options.port + 1 + options.kiosks > 65_535) {
    return Effect.zipRight(Console.error(`ecoupon demo: --port ${options.port} leaves no room for the phone page and ${options.kiosks} touchscreens; give 0 to ${65_534 - options.kiosks}`), Effect.sync(() => void (process.exitCode = 2)))
  }
  return runDemo(options).pipe(
    Effect.catchAll((error) => Effect.zipRight(Console.error(`ecoupon demo: ${error.message}`), Effect.sync(() => void (process.exitCode = 1)))),
    // Ctrl-C interrupts the demo and the runtime then exits 0; a failed audit must still say 1.
    Effect.onExit(() => Effect.sync(() => {
      if (auditFailed) process.exit(1)
    }))
  )
}).pipe(
  Command.withDescription(
    "Run a live deployment on this machine until Ctrl-C: the server (demo gateways) on a fresh store, kiosk agents on sim hardware with simulated customers, the fleet dashboard, a touchscreen for you and a phone page for the codes; prints the audit at the end. For a batch run in virtual time use `ecoupon sim`."
  )
)
