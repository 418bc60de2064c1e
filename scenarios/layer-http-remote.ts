import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { randomBytes, randomInt } from "node:crypto"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import type { MerchantId } from "../core/domain/ids.js"
import { StockMovementId } from "../core/domain/kiosk.js"
import type { KioskBackendService } from "../core/ports/kiosk-backend.js"
import { EcouponApi } from "../adapters/http-api/api.js"
import { KioskBackendHttp } from "../adapters/http-client/kiosk-backend-http.js"
import { makeCardFactory } from "../sim/card-memory.js"
import { deriveSeed } from "../sim/rng.js"
import type { Command } from "./commands.js"
import { deployment, suffixedNames } from "./deployment.js"
import { providerCatalogs } from "./deployment-store.js"
import { emptyRegistry, simStation } from "./layer-sim.js"
import { makeHttpOffice } from "./office-http.js"
import { remoteServerSide } from "./server-side-http.js"
import type { ScenarioEnv, ScenarioLayer, Station, System } from "./system.js"

/**
 * The `http` layer against a server the runner did not start (`--server URL --token T`), typically
 * the one a QA environment runs: `ecoupon serve --gateways demo`. Everything goes over the server's
 * public API, as the people and machines around a real deployment reach it:
 * - each run sets up its own deployment through the operators' API with the admin token (institutions,
 *   regions, kiosks loaded with cards and their return deadline, merchants approved, their keys and
 *   webhook secrets), its demo provider servers' catalogs (`/v1/demo`), and pushes each catalog
 *   through the signed webhook. Every id carries a suffix of the run and the customers' phone numbers
 *   are fresh, so runs (this runner's, another QA's) never meet on a shared server;
 * - kiosks run here over sim devices and the kiosk agent's HTTP backend with their own keys; merchants,
 *   operators and provider servers as on the runner's own http layer (`office-http.ts`);
 * - the phone that receives the code, the provider servers that take the orders and the balances the
 *   runner compares with the model: `server-side-http.ts`.
 *
 * The server runs on the real clock and its own timers (outbox worker, back office). A scenario that
 * lets time pass, settles, or switches a fault of the server's gateways is skipped, with the reason
 * (`cannotRun`): see scenarios/README.md, "`--server URL`".
 */

export interface RemoteServer {
  /** The server's base URL, e.g. http://qa.example:8080 */
  readonly url: string
  /** An admin's token (`eo_...`): a run issues its kiosks' and merchants' keys. Never logged. */
  readonly token: string
}

/** How long the customer waits before taking a card presented at the gate (real time). */
const TAKE_AFTER_MS = 20

/** Why a run's commands cannot run against a shared server, or undefined if they can. */
export const remoteRefusal = (commands: ReadonlyArray<Command> | "model"): string | undefined => {
  if (commands === "model") {
    return "needs the runner's own server (--layer http without --server): the model-based suite draws days passing, settlements and gateway faults, and identifies customers faster than a real clock's code limits allow"
  }
  const reasons = new Set<string>()
  for (const command of commands) {
    if (command._tag === "PassDays" || command._tag === "Wait") reasons.add("lets time pass (a shared server runs on the real clock, which the runner does not move)")
    if (command._tag === "Settle") reasons.add("settles (a settlement run closes every merchant's period on the server, other runs' too)")
    if (command._tag === "Fault" && command.fault !== "card.jam") reasons.add(`switches the server's ${command.fault} (the demo gateways are every run's)`)
  }
  return reasons.size === 0 ? undefined : `needs the runner's own server (--layer http without --server): it ${[...reasons].join(", and ")}`
}

const problemOf = (error: unknown): { readonly status: number; readonly type: string; readonly detail: string } | undefined =>
  typeof error === "object" && error !== null && "status" in error && "type" in error && "detail" in error
    ? { status: Number(error.status), type: String(error.type), detail: String(error.detail) }
    : undefined

/** One line that says why the server refused `what`, or could not be asked. */
export const refusalLine = (url: string, what: string, error: unknown): string => {
  const problem = problemOf(error)
  if (problem === undefined && typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string" && !(error instanceof Error)) {
    return `the server at ${url} refused to ${what} (${error._tag})`
  }
  if (problem === undefined) {
    const cause = typeof error === "object" && error !== null && "cause" in error && error.cause instanceof Error ? `: ${error.cause.message}` : ""
    const message = error instanceof Error ? error.message : String(error)
    return `cannot reach the server at ${url} (${message}${cause}); is \`ecoupon serve\` running there?`
  }
  if (problem.status === 401) return `the server at ${url} does not accept the token (401: ${problem.detail}); give an admin token with --token or ECOUPON_TOKEN`
  if (problem.status === 403) return `the token may not ${what} on ${url} (403: ${problem.detail}); a run issues its kiosks' and merchants' keys, which takes an admin's token`
  if (problem.type.endsWith(":not-demo-gateways")) return `the server at ${url} does not run on the demo gateways; start it with \`ecoupon serve --gateways demo\` (the runner reads the codes its demo SMS gateway delivered)`
  return `the server at ${url} refused to ${what} (${problem.status}: ${problem.detail})`
}

class SetupRefused {
  readonly _tag = "SetupRefused"
  constructor(readonly line: string) {}
}

const apiOf = (server: RemoteServer) =>
  HttpApiClient.make(EcouponApi, { baseUrl: server.url, transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(server.token)) })

const step = <A, E>(server: RemoteServer, what: string, effect: Effect.Effect<A, E>): Effect.Effect<A, SetupRefused> =>
  Effect.mapError(effect, (error) => new SetupRefused(refusalLine(server.url, what, error)))

/**
 * Before a run: the server answers, takes the token as an admin's, and runs on the demo gateways.
 * Undefined if so, else one line saying what is wrong.
 */
export const checkServer = (server: RemoteServer): Promise<string | undefined> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const api = yield* apiOf(server)
      yield* step(server, "answer", api.health.readyz())
      yield* step(server, "list its credentials", api.credentials.keys({ urlParams: {} }))
      yield* step(server, "show a demo phone's inbox", api.demo.inbox({ payload: { phone: "+821000000000" as never } }))
      return undefined
    }).pipe(
      Effect.catchAll((refused) => Effect.succeed(refused.line)),
      Effect.scoped,
      Effect.provide(NodeHttpClient.layerUndici)
    )
  )

/** Phone numbers no other run has: Korean mobile numbers, 8 random digits. */
const freshPhones = (): ReadonlyArray<string> => {
  const phones = new Set<string>()
  while (phones.size < deployment.phones.length) phones.add(`+8210${String(randomInt(0, 100_000_000)).padStart(8, "0")}`)
  return [...phones]
}

export const remoteHttpLayer = (server: RemoteServer): ScenarioLayer => ({
  name: "http",
  where: server.url,
  cannotRun: remoteRefusal,
  open: async (options) => {
    const scope = Effect.runSync(Scope.make())
    const close = () => Effect.runPromise(Scope.close(scope, Exit.void))
    const suffix = randomBytes(5).toString("hex")
    const names = suffixedNames(suffix, freshPhones(), Date.now())
    const built = await Effect.runPromise(
      Effect.gen(function* () {
        const client = Context.get(yield* Layer.buildWithScope(NodeHttpClient.layerUndici, scope), HttpClient.HttpClient)
        const inScope = <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient | Scope.Scope>) => effect.pipe(Effect.provideService(HttpClient.HttpClient, client), Scope.extend(scope))
        const api = yield* inScope(apiOf(server))
        for (const [i, institutionId] of names.institutions.entries()) {
          const regionId = names.regions[i] ?? names.regions[0]
          yield* step(server, "add an institution", api.operators.addInstitution({ payload: { id: institutionId, name: `Scenario fund ${i + 1} (run ${suffix})` } }))
          if (regionId !== undefined) yield* step(server, "add a region", api.operators.addRegion({ payload: { id: regionId, name: `Scenario region ${i + 1} (run ${suffix})`, institutionId } }))
        }
        const kioskKeys: Array<string> = []
        for (const [k, kioskId] of names.kiosks.entries()) {
          const regionId = names.regions[k] ?? names.regions[0]
          if (regionId === undefined) return yield* Effect.dieMessage("no region")
          yield* step(server, "add a kiosk", api.operators.addKiosk({ payload: { id: kioskId, name: `Scenario kiosk ${k + 1} (run ${suffix})`, regionId, binCapacity: deployment.binCapacity } }))
          yield* step(server, "load a kiosk's cards", api.operators.loadCards({ path: { kioskId }, payload: { count: deployment.stackerCards, movementId: StockMovementId.make(`load:${kioskId}:initial`) } }))
          yield* step(server, "set a kiosk's return deadline", api.operators.setDesired({ path: { kioskId }, payload: { returnDeadlineDays: deployment.returnDeadlineDays } }))
          kioskKeys.push((yield* step(server, "issue a kiosk key", api.credentials.issueKioskKey({ path: { kioskId } }))).credential)
        }
        const merchants = new Map<MerchantId, { readonly key: string; readonly secret: string }>()
        for (const [m, merchantId] of names.merchants.entries()) {
          yield* step(server, "add a merchant", api.operators.addMerchant({ payload: { id: merchantId, name: `Scenario merchant ${m + 1} (run ${suffix})`, providerUrl: `https://provider-${m + 1}.example/api` } }))
          yield* step(server, "approve a merchant", api.operators.approveMerchant({ path: { merchantId } }))
          const key = (yield* step(server, "issue a merchant key", api.credentials.issueMerchantKey({ path: { merchantId } }))).credential
          const secret = (yield* step(server, "issue a merchant's webhook secret", api.credentials.issueMerchantSecret({ path: { merchantId } }))).secret
          merchants.set(merchantId, { key, secret })
        }
        const office = yield* inScope(makeHttpOffice({ baseUrl: server.url, operatorToken: server.token, merchants }))
        for (const catalog of providerCatalogs(names)) {
          yield* step(server, "give a demo provider server its catalog", api.demo.setProviderCatalog({ path: { merchantId: catalog.merchantId }, payload: { offers: catalog.offers } }))
          yield* step(server, "take a provider's catalog push", office.pushCatalog(catalog.merchantId, catalog.offers))
        }
        const backends: Array<KioskBackendService> = []
        for (const kioskKey of kioskKeys) backends.push(yield* KioskBackendHttp.make({ baseUrl: server.url, kioskKey }).pipe(Effect.provideService(HttpClient.HttpClient, client)))
        const side = yield* inScope(remoteServerSide({ baseUrl: server.url, token: server.token, names, backends }))
        // Devices seeded for this run (card UIDs are the server's keys: two runs must not mint the same).
        const deviceSeed = deriveSeed(options.seed, `run:${suffix}`)
        const cards = makeCardFactory()
        const stations: Array<Station> = []
        for (const [k, kioskId] of names.kiosks.entries()) {
          const backend = backends[k]
          if (backend === undefined) return yield* Effect.dieMessage("no kiosk backend")
          stations.push(yield* simStation(k, deviceSeed, cards, undefined, { instant: true, takeAfterMs: TAKE_AFTER_MS, backend: Effect.succeed(backend) }, kioskId))
        }
        for (const station of stations) yield* station.flow.startup
        const env: ScenarioEnv = {
          layer: "http",
          names,
          server: side,
          office,
          stations,
          registry: emptyRegistry(),
          // The server's clock is the real one: the gap the model counts between commands is not waited
          // (nothing the scenarios run here depends on it); longer spans are refused before the run.
          advance: (ms) => (ms <= deployment.commandGapMs ? Effect.void : Effect.dieMessage(`cannot let ${ms} ms pass on a server the runner did not start`)),
          handMs: TAKE_AFTER_MS
        }
        return env
      }).pipe(Effect.withTracerEnabled(false), Effect.either)
    ).catch(async (error: unknown) => {
      await close()
      throw error
    })
    if (built._tag === "Left") {
      await close()
      throw new Error(built.left.line)
    }
    const env = built.right
    const system: System = { layer: "http", run: (run) => Effect.runPromise(run(env).pipe(Effect.withTracerEnabled(false))), close }
    return system
  }
})
