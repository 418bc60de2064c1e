import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { existsSync, readFileSync } from "node:fs"
import { createServer, type Server } from "node:http"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Option, Schedule, type Scope, Stream } from "effect"
import type { Journey } from "./journey.js"
import { KioskAction } from "./journey-view.js"

/**
 * The touchscreen's server: the page (adapters/web/kiosk/), preact and htm as ES modules straight
 * from node_modules (no build step), and a small local API:
 * - `GET /api/view`: the journey's view as server-sent events, the current one first;
 * - `POST /api/action`: one customer choice (`KioskAction` as JSON): 202, or 409 while the previous
 *   choice is still being answered, or 400 for anything that is not a choice;
 * - `POST /api/sim/take`, `/api/sim/insert`: the customer's hands, on simulated hardware only.
 * It listens on 127.0.0.1 only: the kiosk's own screen is its one client.
 */

/**
 * The customer's hands on simulated hardware (sim/customer-hands.ts): take the card at the gate, put
 * one back in the slot; false when there is nothing to take or insert.
 */
export interface CustomerHands {
  readonly take: Effect.Effect<boolean>
  readonly insert: Effect.Effect<boolean>
}

export interface UiServerSettings {
  /** 0: a port the system picks (tests). */
  readonly port: number
  readonly host: string
  /** A comment line on the event stream this often keeps proxies and the browser from timing out. */
  readonly heartbeatMs: number
}

interface Asset {
  readonly body: Uint8Array
  readonly contentType: string
}

const require = createRequire(import.meta.url)
const here = dirname(fileURLToPath(import.meta.url))

/** The page's folder, from the sources or from dist/ (which holds compiled code only). */
const webRoot = (): string => {
  const candidates = [join(here, "..", "web", "kiosk"), join(here, "..", "..", "..", "adapters", "web", "kiosk")]
  const found = candidates.find((dir) => existsSync(join(dir, "index.html")))
  if (found === undefined) throw new Error(`the touchscreen's files are missing (looked in ${candidates.join(", ")}); reinstall the package`)
  return found
}

/** An ES module build beside the CommonJS entry that `require.resolve` finds. */
const moduleBeside = (specifier: string, file: string) => join(dirname(require.resolve(specifier)), file)

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml"
}

/** Every file the page needs, read once at start: a handful of small files, served from memory. */
const loadAssets = (): ReadonlyMap<string, Asset> => {
  const root = webRoot()
  const files: Array<[string, string]> = [
    ["/", join(root, "index.html")],
    ["/app.js", join(root, "app.js")],
    ["/screens.js", join(root, "screens.js")],
    ["/texts.js", join(root, "texts.js")],
    ["/style.css", join(root, "style.css")],
    ["/vendor/preact.mjs", moduleBeside("preact", "preact.mjs")],
    ["/vendor/hooks.mjs", moduleBeside("preact/hooks", "hooks.mjs")],
    ["/vendor/htm.mjs", moduleBeside("htm", "htm.mjs")]
  ]
  return new Map(
    files.map(([path, file]) => {
      const ext = /\.[a-z]+$/.exec(file)?.[0] ?? ".html"
      return [path, { body: readFileSync(file), contentType: contentTypes[ext] ?? "application/octet-stream" }]
    })
  )
}

const problem = (status: number, detail: string) => HttpServerResponse.unsafeJson({ status, detail }, { status, contentType: "application/problem+json" })

const encoder = new TextEncoder()

/** Serves the touchscreen until the scope closes; returns the URL it listens on. */
export const serveKioskUi = (journey: Journey, hands: Option.Option<CustomerHands>, settings: UiServerSettings): Effect.Effect<string, Error, Scope.Scope> =>
  Effect.gen(function* () {
    const assets = yield* Effect.try({ try: loadAssets, catch: (error) => (error instanceof Error ? error : new Error(String(error))) })

    const viewEvents = Stream.merge(
      Stream.map(journey.view.changes, (view) => encoder.encode(`data: ${JSON.stringify(view)}\n\n`)),
      Stream.map(Stream.fromSchedule(Schedule.spaced(settings.heartbeatMs)), () => encoder.encode(": heartbeat\n\n"))
    )

    const act = Effect.gen(function* () {
      const action = yield* Effect.either(HttpServerRequest.schemaBodyJson(KioskAction))
      if (action._tag === "Left") return problem(400, "not a choice this screen knows; reload the page")
      const done = yield* Effect.either(journey.act(action.right))
      return done._tag === "Left" ? problem(409, done.left.message) : HttpServerResponse.empty({ status: 202 })
    })

    const hand = (pick: (h: CustomerHands) => Effect.Effect<boolean>, nothing: string) =>
      Option.match(hands, {
        onNone: () => Effect.succeed(problem(404, "this kiosk has real hardware: take or insert the card by hand")),
        onSome: (h) => Effect.map(pick(h), (did) => (did ? HttpServerResponse.empty({ status: 204 }) : problem(409, nothing)))
      })

    let router = HttpRouter.empty.pipe(
      HttpRouter.get(
        "/api/view",
        Effect.succeed(
          HttpServerResponse.stream(viewEvents, { contentType: "text/event-stream", headers: { "cache-control": "no-store", "x-accel-buffering": "no" } })
        )
      ),
      HttpRouter.post("/api/action", act),
      HttpRouter.post("/api/sim/take", hand((h) => h.take, "no card is waiting at the gate")),
      HttpRouter.post("/api/sim/insert", hand((h) => h.insert, "the customer holds no card to insert, or one already waits at the slot"))
    )
    for (const [path, asset] of assets) {
      router = HttpRouter.get(router, path as HttpRouter.PathInput, Effect.succeed(HttpServerResponse.uint8Array(asset.body, { contentType: asset.contentType, headers: { "cache-control": "no-cache" } })))
    }
    const app = router.pipe(Effect.catchTag("RouteNotFound", () => Effect.succeed(problem(404, "no such page on the kiosk"))))

    let nodeServer: Server | undefined
    const server = yield* NodeHttpServer.make(() => (nodeServer = createServer()), { port: settings.port, host: settings.host })
    // The page's event stream never ends by itself: on shutdown the connections are closed, so the
    // listener's close does not wait for the browser.
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer?.closeAllConnections()))
    yield* server.serve(app)
    const address = server.address
    return address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}/` : `unix:${address.path}`
  })
