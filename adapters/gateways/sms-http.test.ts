import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { PhoneNumber } from "../../core/domain/ids.js"
import type { SmsGatewayService } from "../../core/ports/sms-gateway.js"
import { closedPortUrl, fakeVendor, type VendorAnswer } from "./fake-vendor.js"
import { makeHttpSms } from "./sms-http.js"

/**
 * The SMS gateway against a vendor the test starts on 127.0.0.1: the wire contract, the idempotent
 * resend, and every failure class of http-call.ts mapped onto the port's errors.
 */

const phone = PhoneNumber.make("+821012345678")
const message = { idempotencyKey: "sms:chl_1", to: phone, text: "Your code is 123456" }

const smsAt = (url: string, timeoutMs = 2_000, responseBytesMax = 4_096) =>
  makeHttpSms({ url: `${url}/v1/`, token: Redacted.make("tok_sms"), timeoutMs, responseBytesMax }).pipe(Effect.provide(NodeHttpClient.layer))

const outcome = (sms: SmsGatewayService) =>
  sms.send(message).pipe(Effect.match({ onFailure: (e) => `${e._tag}: ${e.message}`, onSuccess: (ok) => `ok ${ok.messageRef}` }))

/** What the gateway makes of one vendor answer. */
const answeredWith = (answer: VendorAnswer, timeoutMs?: number) =>
  Effect.gen(function*() {
    const vendor = yield* fakeVendor(() => answer)
    return yield* outcome(yield* smsAt(vendor.url, timeoutMs))
  }).pipe(Effect.scoped)

describe("HTTP SMS gateway", () => {
  it.live("posts the message with the bearer token and the idempotency key; a resend is answered with the first reference", () =>
    Effect.gen(function*() {
      const refs = new Map<string, string>()
      const vendor = yield* fakeVendor((request) => {
        const key = String(request.headers["idempotency-key"])
        if (!refs.has(key)) refs.set(key, `msg_${refs.size + 1}`)
        return { status: 201, body: { messageRef: refs.get(key) } }
      })
      const sms = yield* smsAt(vendor.url)
      expect(yield* sms.send(message)).toEqual({ messageRef: "msg_1" })
      expect(yield* sms.send(message)).toEqual({ messageRef: "msg_1" })
      expect(vendor.received).toHaveLength(2)
      const [sent] = vendor.received
      expect(sent?.method).toBe("POST")
      expect(sent?.path).toBe("/v1/messages")
      expect(sent?.headers.authorization).toBe("Bearer tok_sms")
      expect(sent?.headers["idempotency-key"]).toBe("sms:chl_1")
      expect(sent?.headers["content-type"]).toContain("application/json")
      expect(JSON.parse(sent?.body ?? "")).toEqual({ to: "+821012345678", text: "Your code is 123456" })
    }).pipe(Effect.scoped))

  it.live("5xx, 429 and 408 are unavailable (retry later); other 4xx are rejected with the vendor's reason, numbers blotted out", () =>
    Effect.gen(function*() {
      expect(yield* answeredWith({ status: 503, body: "maintenance" })).toBe("ServiceUnavailable: sms gateway is unavailable (HTTP 503: maintenance); the request stays queued and will be retried")
      expect(yield* answeredWith({ status: 429, body: { title: "Too Many Requests" }, headers: { "retry-after": "5" } })).toContain("ServiceUnavailable: sms gateway is unavailable (HTTP 429: Too Many Requests)")
      expect(yield* answeredWith({ status: 408, body: "" })).toContain("ServiceUnavailable: sms gateway is unavailable (HTTP 408)")
      expect(yield* answeredWith({ status: 400, body: { type: "about:blank", title: "Bad Request", detail: "number +821012345678 is not a mobile line" } }))
        .toBe("ServiceRejected: sms gateway rejected the request: HTTP 400: number [number] is not a mobile line")
      expect(yield* answeredWith({ status: 401, body: "invalid token\nmore" })).toBe("ServiceRejected: sms gateway rejected the request: HTTP 401: invalid token")
      expect(yield* answeredWith({ status: 302, body: "", headers: { location: "http://elsewhere.example" } })).toContain("unexpected HTTP 302 (redirects are not followed)")
    }))

  it.live("a 2xx whose body does not decode is unavailable, with what was wrong; so is one past the size bound", () =>
    Effect.gen(function*() {
      expect(yield* answeredWith({ status: 200, body: "<html>ok</html>" })).toMatch(/^ServiceUnavailable: .*HTTP 200 with an answer we cannot read/)
      expect(yield* answeredWith({ status: 200, body: { id: "msg_1" } })).toMatch(/HTTP 200 with an answer we cannot read \(.*messageRef/)
      expect(yield* answeredWith({ status: 200, body: { messageRef: "x".repeat(10_000) } })).toContain("the answer was larger than 4096 bytes")
    }))

  it.live("no listener, a reset connection and a vendor that never answers are unavailable", () =>
    Effect.gen(function*() {
      expect(yield* outcome(yield* smsAt(yield* closedPortUrl))).toBe("ServiceUnavailable: sms gateway is unavailable (connection refused); the request stays queued and will be retried")
      expect(yield* answeredWith({ reset: true })).toMatch(/^ServiceUnavailable: sms gateway is unavailable \(connection reset\)/)
      expect(yield* answeredWith({ stall: true }, 200)).toBe("ServiceUnavailable: sms gateway is unavailable (no answer within 200 ms); the request stays queued and will be retried")
    }))
})
