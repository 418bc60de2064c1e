import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Context, Effect, Exit, Layer, Scope, SubscriptionRef } from "effect"
import { kioskRuntimeLayer } from "../../adapters/cli/kiosk-runtime.js"
import type { KioskView } from "../../adapters/kiosk-agent/journey-view.js"
import { KioskAgent, type KioskAgentService, type KioskAgentSettings } from "../../adapters/kiosk-agent/kiosk-agent.js"
import { MerchantSecrets } from "../../adapters/server/credentials/merchant-secrets.js"
import { signatureOf } from "../../adapters/server/credentials/webhook-signature.js"
import { deployment, type LiveServer, liveServer } from "../../adapters/server/testing.js"
import { sqljsTestLayer } from "../../adapters/store/testing.js"
import type { KioskId } from "../../core/domain/ids.js"
import { type CuttableLink, openCuttableLink } from "./cuttable-link.js"

/**
 * A management server and one live kiosk agent in this process, talking real HTTP on 127.0.0.1: the
 * server of adapters/server/testing.ts (its deployment, on a fresh sql.js store) and kiosk 1's agent
 * as `ecoupon kiosk --card-unit sim --printer sim` composes it (adapters/cli/kiosk-runtime.ts), its
 * state in a temporary directory and its traffic through a link the test can cut. Operators' calls go
 * to the server directly, with an admin token.
 */

const DAY_MS = 86_400_000

export interface TwinJson {
  readonly desiredVersion: number
  readonly regionCatalogVersion: number
  readonly reported: { readonly catalogVersion: number; readonly enabled: boolean; readonly appliedDesiredVersion: number } | null
  readonly delta: ReadonlyArray<{ readonly field: string; readonly desired: string; readonly reported: string }>
}

export interface LiveKiosk {
  readonly server: LiveServer
  readonly kioskId: KioskId
  readonly operatorToken: string
  readonly agent: KioskAgentService
  readonly link: CuttableLink
  readonly view: () => Promise<KioskView>
  /** The kiosk's twin as operators read it (`GET /v1/ops/kiosks/<id>/twin`). */
  readonly twin: () => Promise<TwinJson>
  /** Polls `twin` until `accept` holds; fails naming `what` and the last twin. */
  readonly twinUntil: (accept: (twin: TwinJson) => boolean, what: string, timeoutMs: number) => Promise<TwinJson>
  /** A provider's signed catalog webhook (merchant 2) putting `offerId` on sale in kiosk 1's region. */
  readonly pushOffer: (offerId: string, title: string) => Promise<void>
  /** `PATCH /v1/ops/kiosks/<id>/desired` as an operator. */
  readonly setEnabled: (enabled: boolean) => Promise<void>
  readonly close: () => Promise<void>
}

export const startLiveKiosk = async (agentSettings: Partial<Omit<KioskAgentSettings, "ui">>): Promise<LiveKiosk> => {
  const scope = Effect.runSync(Scope.make())
  const inScope = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) => Effect.runPromise(Scope.extend(effect, scope))
  const stateDir = mkdtempSync(join(tmpdir(), "ecoupon-live-kiosk-"))
  let link: CuttableLink | undefined
  const close = async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await link?.close()
    rmSync(stateDir, { recursive: true, force: true })
  }
  try {
    const server = await inScope(liveServer(sqljsTestLayer))
    const port = Number(new URL(server.baseUrl).port)
    link = await openCuttableLink(port)
    const kioskId = deployment.kiosk1
    const operatorToken = await inScope(server.issue("operator", "live kiosk tests", "admin"))
    const kioskKey = await inScope(server.issue("kiosk", kioskId))
    const merchantSecret = await inScope(Effect.flatMap(MerchantSecrets, (secrets) => secrets.issue(deployment.merchant2)).pipe(Effect.provide(server.context)))
    const context = await inScope(
      Layer.build(
        kioskRuntimeLayer({
          serverUrl: link.baseUrl,
          kioskKey,
          // As many cards as the server counts in kiosk 1, so the twin's counts agree.
          cardUnit: { _tag: "sim", stackerCards: deployment.stackerCards, binCapacity: 100, takeAfterMs: "manual", seed: 11 },
          printer: { _tag: "sim", seed: 12 },
          stateDir,
          uiPort: 0,
          agent: agentSettings
        })
      )
    )
    const agent = Context.get(context, KioskAgent)
    const ops = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${server.baseUrl}/v1/ops${path}`, {
        method,
        headers: { authorization: `Bearer ${operatorToken}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
      const text = await response.text()
      if (!response.ok) throw new Error(`${method} /v1/ops${path} answered ${response.status}: ${text}`)
      return JSON.parse(text) as unknown
    }
    const twin = async () => (await ops("GET", `/kiosks/${kioskId}/twin`)) as TwinJson
    let deliveries = 0
    return {
      server,
      kioskId,
      operatorToken,
      agent,
      link,
      view: () => Effect.runPromise(SubscriptionRef.get(agent.journey.view)),
      twin,
      twinUntil: async (accept, what, timeoutMs) => {
        const deadline = performance.now() + timeoutMs
        for (;;) {
          const current = await twin()
          if (accept(current)) return current
          if (performance.now() > deadline) throw new Error(`the twin did not show ${what} within ${timeoutMs} ms: ${JSON.stringify(current)}`)
          await new Promise((done) => setTimeout(done, 50))
        }
      },
      pushOffer: async (offerId, title) => {
        const nowMs = Date.now()
        const body = JSON.stringify({
          offers: [{ offerId, title, pricePoints: 700, stock: 10, validFromMs: nowMs - DAY_MS, validUntilMs: nowMs + DAY_MS, regions: [deployment.region1] }]
        })
        const timestamp = String(Math.floor(nowMs / 1000))
        const response = await fetch(`${server.baseUrl}/v1/providers/${deployment.merchant2}/catalog`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-ecoupon-timestamp": timestamp,
            "x-ecoupon-delivery": `live-kiosk-${++deliveries}`,
            "x-ecoupon-signature": signatureOf(merchantSecret.secret, timestamp, body)
          },
          body
        })
        const answer = await response.text()
        if (!response.ok) throw new Error(`the catalog webhook answered ${response.status}: ${answer}`)
      },
      setEnabled: async (enabled) => void (await ops("PATCH", `/kiosks/${kioskId}/desired`, { enabled })),
      close
    }
  } catch (error) {
    await close()
    throw error
  }
}
