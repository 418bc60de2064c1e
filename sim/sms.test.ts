import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { PhoneNumber } from "../core/domain/ids.js"
import { SmsGateway, type SmsMessage } from "../core/ports/sms-gateway.js"
import { BoundedLog, BoundedMap } from "./bounded.js"
import { always, at, never } from "./faults.js"
import { type SimSmsConfig, SimSmsControl, SimSmsLive } from "./sms.js"
import { advancing } from "./testing.js"

const phone = PhoneNumber.make("+821012345678")
const message = (key: string, text = `code ${key}`): SmsMessage => ({ idempotencyKey: key, to: phone, text })

const withSms = <A, E>(body: Effect.Effect<A, E, SmsGateway | SimSmsControl>, config: SimSmsConfig = {}) =>
  advancing(body).pipe(Effect.provide(SimSmsLive({ seed: 1, ...config })))

describe("sim SMS gateway", () => {
  it.effect("delivers after deliveryMs; a resend with the same key is not delivered twice", () =>
    withSms(Effect.gen(function*() {
      const sms = yield* SmsGateway
      const control = yield* SimSmsControl
      const { messageRef } = yield* sms.send(message("k1"))
      expect(yield* control.inbox(phone)).toEqual([])
      yield* Effect.sleep(3_000)
      expect((yield* control.lastDelivered(phone))?.text).toBe("code k1")
      expect(yield* sms.send(message("k1"))).toEqual({ messageRef })
      yield* Effect.sleep(3_000)
      expect(yield* control.inbox(phone)).toHaveLength(1)
      expect(yield* control.stats).toMatchObject({ accepted: 1, duplicates: 1 })
    })))

  it.effect("forgets an inbox once its newest message is older than the retention, not before", () =>
    withSms(Effect.gen(function*() {
      const sms = yield* SmsGateway
      const control = yield* SimSmsControl
      const other = PhoneNumber.make("+821099998888")
      yield* sms.send(message("a1"))
      yield* Effect.sleep(40_000)
      yield* sms.send({ idempotencyKey: "b1", to: other, text: "code b1" })
      yield* Effect.sleep(10_000)
      yield* sms.send(message("a2"))
      // At 95 s: a1 is past the retention but a2 (50 s) keeps its phone's inbox; b1 (40 s) is not past it.
      yield* Effect.sleep(45_000)
      yield* sms.send({ idempotencyKey: "b2", to: PhoneNumber.make("+821077776666"), text: "code b2" })
      expect((yield* control.inbox(phone)).map((r) => r.text)).toEqual(["code a1", "code a2"])
      expect((yield* control.inbox(other)).map((r) => r.text)).toEqual(["code b1"])
      // At 105 s: b1's inbox goes at this send, a2's stays.
      yield* Effect.sleep(10_000)
      yield* sms.send({ idempotencyKey: "b3", to: PhoneNumber.make("+821077776666"), text: "code b3" })
      expect(yield* control.inbox(other)).toEqual([])
      expect((yield* control.inbox(phone)).map((r) => r.text)).toEqual(["code a1", "code a2"])
      yield* Effect.sleep(30_000)
      yield* sms.send({ idempotencyKey: "b4", to: PhoneNumber.make("+821077776666"), text: "code b4" })
      expect(yield* control.inbox(phone)).toEqual([])
    }), { inboxRetentionMs: 60_000 }))

  it.effect("sms.outage: ServiceUnavailable, nothing recorded", () =>
    withSms(Effect.gen(function*() {
      const sms = yield* SmsGateway
      const control = yield* SimSmsControl
      const error = yield* Effect.flip(sms.send(message("k1")))
      expect(error._tag).toBe("ServiceUnavailable")
      expect(yield* control.sent).toEqual([])
    }), { faults: { "sms.outage": always } }))

  it.effect("sms.reject: ServiceRejected", () =>
    withSms(Effect.gen(function*() {
      const sms = yield* SmsGateway
      expect((yield* Effect.flip(sms.send(message("k1"))))._tag).toBe("ServiceRejected")
    }), { faults: { "sms.reject": always } }))

  it.effect("sms.loss: accepted, never delivered; sms.delay: delivered after delayMs", () =>
    withSms(Effect.gen(function*() {
      const sms = yield* SmsGateway
      const control = yield* SimSmsControl
      yield* sms.send(message("lost"))
      yield* control.setFault("sms.loss", never)
      yield* control.setFault("sms.delay", always)
      yield* sms.send(message("late"))
      yield* Effect.sleep(60_000)
      expect(yield* control.inbox(phone)).toEqual([])
      yield* Effect.sleep(60_000)
      expect((yield* control.inbox(phone)).map((r) => r.text)).toEqual(["code late"])
      expect((yield* control.sent).map((r) => [r.text, r.deliverAtMs])).toEqual([["code lost", undefined], ["code late", 120_000]])
      expect(yield* control.stats).toMatchObject({ accepted: 2, lost: 1, delayed: 1 })
      expect(yield* control.faultsFired).toEqual({ "sms.loss": 1, "sms.delay": 1 })
    }), { faults: { "sms.loss": at(1) }, delayMs: 120_000 }))

  it.effect("send latency is virtual time", () =>
    withSms(Effect.gen(function*() {
      const sms = yield* SmsGateway
      const before = yield* Effect.clockWith((c) => c.currentTimeMillis)
      yield* sms.send(message("k1"))
      expect((yield* Effect.clockWith((c) => c.currentTimeMillis)) - before).toBe(250)
    }), { latencyMs: 250 }))
})

describe("bounded records", () => {
  it("a bounded log keeps the newest items in order", () => {
    const log = new BoundedLog<number>(3)
    for (let i = 1; i <= 5; i++) log.push(i)
    expect([log.toArray(), log.last(), log.dropped]).toEqual([[3, 4, 5], 5, 2])
    expect(log.drain()).toEqual([3, 4, 5])
    expect(log.length).toBe(0)
  })

  it("a bounded map forgets the oldest key", () => {
    const map = new BoundedMap<string, number>(2)
    map.set("a", 1)
    map.set("b", 2)
    map.set("a", 3)
    map.set("c", 4)
    expect([map.get("a"), map.get("b"), map.get("c")]).toEqual([undefined, 2, 4])
  })
})
