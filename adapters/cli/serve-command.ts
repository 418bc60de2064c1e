import { Command, Options } from "@effect/cli"
import { Config, Console, Effect } from "effect"
import { gatewaysLayer } from "./gateways-layer.js"
import { serve } from "../server/management-server.js"
import type { StoreError } from "../store/store-error.js"
import { databaseOption, storeTargetOf } from "./db-options.js"

const host = Options.text("host").pipe(
  Options.withDescription("the address to listen on (default: $ECOUPON_HOST, else 127.0.0.1; 0.0.0.0 for every interface)"),
  Options.withFallbackConfig(Config.string("ECOUPON_HOST")),
  Options.withDefault("127.0.0.1")
)

const port = Options.integer("port").pipe(
  Options.withDescription("the TCP port (default: $ECOUPON_PORT, else 8080; 0 lets the system choose)"),
  Options.withFallbackConfig(Config.integer("ECOUPON_PORT")),
  Options.withDefault(8080)
)

const gateways = Options.choice("gateways", ["http", "demo"]).pipe(
  Options.withDescription(
    "where one-time codes, carrier charges, provider orders and payouts go. http: the real services, configured from the environment (ECOUPON_SMS_URL, ECOUPON_CARRIER_URL, ECOUPON_PAYOUT_URL or ECOUPON_PAYOUT_CSV_DIR, with their tokens: adapters/gateways/README.md); each merchant's provider server is the URL and secret the operators gave it. demo: simulated inside this process, nothing leaves the machine (for trying the server out)"
  )
)

/** A refusal on stderr with exit status 1, without a stack trace: the message says what to do. */
const reportFailure = <A, R>(effect: Effect.Effect<A, StoreError | { readonly message: string }, R>) =>
  Effect.catchAll(effect, (error) => Effect.zipRight(Console.error(`ecoupon serve: ${error.message}`), Effect.sync(() => void (process.exitCode = 1))))

/** `ecoupon serve`: the management server (adapters/server). */
export const serveCommand = Command.make("serve" as string, { database: databaseOption, host, port, gateways }, ({ database, gateways, host, port }) => {
  if (port < 0 || port > 65_535) return Effect.zipRight(Console.error(`ecoupon serve: --port ${port} is not a TCP port; give 0 to 65535`), Effect.sync(() => void (process.exitCode = 2)))
  return serve({ target: storeTargetOf(database), host, port, gateways: gatewaysLayer(gateways) }).pipe(reportFailure)
}).pipe(
  Command.withDescription(
    "Run the management server: the HTTP API for kiosks, merchants, provider servers and operators (docs at /docs), and the outbox and back office. Embedded store by default (created and migrated on first start), PostgreSQL with --database postgres://..."
  )
)
