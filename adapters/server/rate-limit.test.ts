import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { sqljsTestLayer } from "../store/testing.js"
import { makeRateLimiter } from "./rate-limit.js"
import { deployment, liveServer } from "./testing.js"

/**
 * Per-caller rate limits over real HTTP: a caller past its burst is answered 429 with a problem
 * document and Retry-After, while another credential from the same address, and health probes, are
 * not held back; anonymous callers count per address. The bucket refills at its rate.
 */
const get = (url: string, token?: string) =>
  Effect.promise(async () => {
    const response = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
    const text = await response.text()
    return { status: response.status, type: response.headers.get("content-type") ?? "", retryAfter: response.headers.get("retry-after"), text }
  })

describe("rate limits", () => {
  it.scopedLive("429 with Retry-After past a caller's burst, per credential and per address for the anonymous", () =>
    Effect.gen(function* () {
      const server = yield* liveServer(sqljsTestLayer, { rateLimit: { perSecond: 0.01, burst: 3 } })
      const kiosk = yield* server.issue("kiosk", deployment.kiosk1)
      const other = yield* server.issue("kiosk", deployment.kiosk2)
      const catalog = `${server.baseUrl}/v1/kiosk/catalog`

      const statuses: Array<number> = []
      for (let i = 0; i < 4; i++) statuses.push((yield* get(catalog, kiosk)).status)
      expect(statuses).toEqual([200, 200, 200, 429])
      const refused = yield* get(catalog, kiosk)
      expect(refused.status).toBe(429)
      expect(refused.type).toBe("application/problem+json")
      expect(Number(refused.retryAfter)).toBeGreaterThan(60)
      expect(JSON.parse(refused.text)).toMatchObject({ type: "urn:ecoupon:problem:rate-limited", status: 429 })

      // Another kiosk from the same address has its own allowance; probes are never counted.
      expect((yield* get(catalog, other)).status).toBe(200)
      for (let i = 0; i < 5; i++) expect((yield* get(`${server.baseUrl}/healthz`)).status).toBe(200)

      // Without a credential (or with something that is not one) the address is the caller.
      const anonymous: Array<number> = []
      for (let i = 0; i < 4; i++) anonymous.push((yield* get(`${server.baseUrl}/openapi.json`, i % 2 === 0 ? undefined : "not-a-key")).status)
      expect(anonymous).toEqual([200, 200, 200, 429])
    })
  )

  it("refills at its rate and forgets nothing it should not", () => {
    const limiter = makeRateLimiter({ perSecond: 2, burst: 2 })
    const caller = { credential: "kiosk:0123456789abcdef", address: "address:127.0.0.1" }
    expect([limiter.take(caller, 0), limiter.take(caller, 0)].every((d) => d.allowed)).toBe(true)
    expect(limiter.take(caller, 0)).toEqual({ allowed: false, retryAfterSeconds: 1 })
    expect(limiter.take(caller, 499).allowed).toBe(false)
    expect(limiter.take(caller, 500).allowed).toBe(true)
    expect(makeRateLimiter({ perSecond: 0, burst: 0 }).take(caller, 0).allowed).toBe(true)
  })
})
