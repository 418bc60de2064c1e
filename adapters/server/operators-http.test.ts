import { describe, expect, it } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Context, Effect } from "effect"
import { sqljsTestLayer } from "../store/testing.js"
import { deployment, liveServer } from "./testing.js"

/**
 * The operators' group over real HTTP (issue 9): dead letters listed without their payload and
 * retried, a kiosk key rotated (the old one refused from then on), the kiosk's desired state changed
 * and its delta, a settlement run, and the audit's verdict.
 */
const call = (method: string, url: string, token: string, body?: unknown) =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await response.text()
    return { status: response.status, body: (text === "" ? null : JSON.parse(text)) as Record<string, unknown> & ReadonlyArray<Record<string, unknown>> }
  })

describe("the operators' group over HTTP", () => {
  it.scopedLive("dead letters, key rotation, desired state, settlement runs and the audit", () =>
    Effect.gen(function* () {
      const server = yield* liveServer(sqljsTestLayer)
      const S = `${server.baseUrl}/v1/ops`
      const operator = yield* server.issue("operator", "ops", "operator")
      const admin = yield* server.issue("operator", "root", "admin")

      // A dead letter: listed without its payload (an SMS's carries a phone number), retried once.
      const sql = Context.get(server.context, SqlClient.SqlClient)
      yield* sql`INSERT INTO outbox (id, kind, idempotency_key, payload, state, attempts, next_attempt_ms, last_error, created_at_ms)
        VALUES ('obx_dead1', 'sms', 'sms:otp_dead1', '{"to":"+821055500001","text":"code 123456"}', 'dead', 8, 0, 'gave up', 0)`.pipe(Effect.orDie)
      const dead = yield* call("GET", `${S}/outbox/dead`, operator)
      expect(dead.status).toBe(200)
      expect(dead.body.map((letter) => letter["id"])).toEqual(["obx_dead1"])
      expect(JSON.stringify(dead.body)).not.toContain("821055500001")
      const retried = yield* call("POST", `${S}/outbox/obx_dead1/retry`, operator)
      expect(retried.status).toBe(200)
      expect((yield* call("GET", `${S}/outbox/dead`, operator)).body).toEqual([])
      const state = yield* sql`SELECT state FROM outbox WHERE id = 'obx_dead1'`.pipe(Effect.orDie)
      expect(state[0]?.["state"]).toBe("pending")

      // Key rotation: the new key works, the old one is refused.
      const issued = yield* call("POST", `${S}/kiosks/${deployment.kiosk1}/keys`, admin)
      const oldKey = String(issued.body["credential"])
      expect((yield* call("GET", `${server.baseUrl}/v1/kiosk/catalog`, oldKey)).status).toBe(200)
      const rotated = yield* call("POST", `${S}/kiosks/${deployment.kiosk1}/keys/rotate`, admin)
      expect(rotated.status).toBe(200)
      expect((yield* call("GET", `${server.baseUrl}/v1/kiosk/catalog`, oldKey)).status).toBe(401)
      expect((yield* call("GET", `${server.baseUrl}/v1/kiosk/catalog`, String(rotated.body["credential"]))).status).toBe(200)

      // Desired state and its delta.
      const patched = yield* call("PATCH", `${S}/kiosks/${deployment.kiosk1}/desired`, operator, { enabled: false })
      expect(patched.status).toBe(200)
      expect((patched.body["desired"] as Record<string, unknown>)["enabled"]).toBe(false)
      const twin = yield* call("GET", `${S}/kiosks/${deployment.kiosk1}/twin`, operator)
      expect((twin.body["delta"] as ReadonlyArray<Record<string, unknown>>).map((d) => d["field"])).toContain("enabled")

      // A settlement run and the audit.
      const run = yield* call("POST", `${S}/settlements/run`, operator, { periodEndMs: Date.now() - (Date.now() % 86_400_000) })
      expect(run.status).toBe(200)
      expect(Array.isArray(run.body["statements"])).toBe(true)
      const audit = yield* call("GET", `${S}/audit`, operator)
      expect([audit.status, audit.body["ok"], audit.body["violationCount"]]).toEqual([200, true, 0])
    })
  )
})
