import { Clock, Context, Effect, Layer } from "effect"
import type { PhoneNumber } from "../core/domain/ids.js"
import { ServiceRejected, ServiceUnavailable } from "../core/ports/service-errors.js"
import { SmsGateway, type SmsGatewayService, type SmsMessage } from "../core/ports/sms-gateway.js"
import { BoundedLog, BoundedMap } from "./bounded.js"
import { type FaultKnob, type FaultSpec, FaultTable, knobsOf, type SimFaults } from "./faults.js"
import { deviceRandom } from "./rng.js"
import { mapNowMs, withNowMs } from "./clock-now.js"

/**
 * The SMS gateway's twin. It records every accepted message and delivers it to the phone's inbox
 * after `deliveryMs` (or `delayMs` when `sms.delay` fires, or never when `sms.loss` fires: the
 * gateway said yes and the phone got nothing, which is what a user retrying a code meets). The
 * idempotency key is honoured: a resend with the same key is answered with the first reference and
 * not delivered again, as long as the key is among the last `dedupeKeptMax` seen.
 */

export type SmsFaultKnob = Extract<FaultKnob, `sms.${string}`>

export interface SmsRecord {
  readonly messageRef: string
  readonly idempotencyKey: string
  readonly to: PhoneNumber
  readonly text: string
  readonly sentAtMs: number
  /** When it reaches the phone; undefined when it was lost. */
  readonly deliverAtMs: number | undefined
}

export interface SmsStats {
  readonly accepted: number
  readonly duplicates: number
  readonly lost: number
  readonly delayed: number
  readonly rejected: number
  readonly unavailable: number
}

export interface SimSmsControlService {
  /** Messages that have reached `phone` by now, oldest first (the last `inboxKeptMax` of them). */
  readonly inbox: (phone: PhoneNumber) => Effect.Effect<ReadonlyArray<SmsRecord>>
  /** The newest message on `phone` by now: what a customer reads the code from. */
  readonly lastDelivered: (phone: PhoneNumber) => Effect.Effect<SmsRecord | undefined>
  /** Every accepted message (the last `logKeptMax`), lost and late ones included, oldest first. */
  readonly sent: Effect.Effect<ReadonlyArray<SmsRecord>>
  readonly stats: Effect.Effect<SmsStats>
  readonly setFault: (knob: SmsFaultKnob, spec: FaultSpec) => Effect.Effect<void>
  readonly faultsFired: Effect.Effect<Readonly<Partial<Record<SmsFaultKnob, number>>>>
}

export class SimSmsControl extends Context.Tag("ecoupon/sim/SimSmsControl")<SimSmsControl, SimSmsControlService>() {}

export interface SimSmsConfig {
  /** How long the gateway takes to answer a send (default 0). */
  readonly latencyMs?: number
  /** From acceptance to the phone (default 3 s). */
  readonly deliveryMs?: number
  /** From acceptance to the phone when `sms.delay` fires (default 2 min). */
  readonly delayMs?: number
  readonly faults?: SimFaults
  readonly seed?: number
  readonly logKeptMax?: number
  readonly inboxKeptMax?: number
  /**
   * A phone's inbox is forgotten once its newest message was sent this long ago (default a day of
   * virtual time): a customer reads a code within minutes, and a fleet month meets hundreds of
   * thousands of numbers, whose inboxes were most of the heap that grew with the days.
   */
  readonly inboxRetentionMs?: number
  readonly dedupeKeptMax?: number
}

const service = "sms gateway"
const smsKnobs = knobsOf("sms")

export const makeSimSms = (
  config: SimSmsConfig = {}
): Effect.Effect<{ readonly port: SmsGatewayService; readonly control: SimSmsControlService }> =>
  Effect.gen(function*() {
    const random = yield* deviceRandom(config.seed)
    const faults = new FaultTable<SmsFaultKnob>(smsKnobs, config.faults ?? {}, random, yield* Clock.currentTimeMillis)
    const latencyMs = config.latencyMs ?? 0
    const deliveryMs = config.deliveryMs ?? 3_000
    const delayMs = config.delayMs ?? 120_000
    const logKeptMax = config.logKeptMax ?? 1_000
    const inboxKeptMax = config.inboxKeptMax ?? 5
    const dedupeKeptMax = config.dedupeKeptMax ?? 100_000
    const byKey = new BoundedMap<string, string>(dedupeKeptMax)
    const inboxRetentionMs = config.inboxRetentionMs ?? 86_400_000
    const inboxes = new Map<string, BoundedLog<SmsRecord>>()
    // Delivered-to inboxes in the order of their messages (virtual time only moves on), each entry
    // the message that put the phone here: the inbox goes when that is still its newest past retention.
    const inboxOrder: Array<SmsRecord> = []
    let inboxOrderHead = 0
    const forgetOldInboxes = (nowMs: number): void => {
      while (inboxOrderHead < inboxOrder.length) {
        const oldest = inboxOrder[inboxOrderHead] as SmsRecord
        if (oldest.sentAtMs > nowMs - inboxRetentionMs) break
        inboxOrderHead++
        if (inboxes.get(oldest.to)?.last() === oldest) inboxes.delete(oldest.to)
      }
      if (inboxOrderHead > 1_024 && inboxOrderHead * 2 > inboxOrder.length) {
        inboxOrder.splice(0, inboxOrderHead)
        inboxOrderHead = 0
      }
    }
    const log = new BoundedLog<SmsRecord>(logKeptMax)
    const stats = { accepted: 0, duplicates: 0, lost: 0, delayed: 0, rejected: 0, unavailable: 0 }

    const accept = (message: SmsMessage, nowMs: number): string => {
      const messageRef = `sms_${++stats.accepted}`
      const lost = faults.fires("sms.loss", nowMs)
      const late = !lost && faults.fires("sms.delay", nowMs)
      if (lost) stats.lost++
      if (late) stats.delayed++
      const record: SmsRecord = {
        messageRef,
        idempotencyKey: message.idempotencyKey,
        to: message.to,
        text: message.text,
        sentAtMs: nowMs,
        deliverAtMs: lost ? undefined : nowMs + (late ? delayMs : deliveryMs)
      }
      log.push(record)
      forgetOldInboxes(nowMs)
      if (!lost) {
        const inbox = inboxes.get(message.to) ?? new BoundedLog<SmsRecord>(inboxKeptMax)
        inbox.push(record)
        inboxes.set(message.to, inbox)
        inboxOrder.push(record)
      }
      byKey.set(message.idempotencyKey, messageRef)
      return messageRef
    }

    const send = (message: SmsMessage): Effect.Effect<{ readonly messageRef: string }, ServiceUnavailable | ServiceRejected> =>
      withNowMs((nowMs): Effect.Effect<{ readonly messageRef: string }, ServiceUnavailable | ServiceRejected> => {
        if (faults.fires("sms.outage", nowMs)) {
          stats.unavailable++
          return Effect.fail(new ServiceUnavailable({ service, detail: "connection refused" }))
        }
        const known = byKey.get(message.idempotencyKey)
        if (known !== undefined) {
          stats.duplicates++
          return Effect.as(latencyMs > 0 ? Effect.sleep(latencyMs) : Effect.void, { messageRef: known })
        }
        if (faults.fires("sms.reject", nowMs)) {
          stats.rejected++
          return Effect.fail(new ServiceRejected({ service, reason: "the operator refused the message (number not reachable)" }))
        }
        const messageRef = accept(message, nowMs)
        return Effect.as(latencyMs > 0 ? Effect.sleep(latencyMs) : Effect.void, { messageRef })
      })

    const delivered = (phone: PhoneNumber, nowMs: number): Array<SmsRecord> =>
      (inboxes.get(phone)?.toArray() ?? []).filter((r) => r.deliverAtMs !== undefined && r.deliverAtMs <= nowMs)
        .sort((a, b) => (a.deliverAtMs ?? 0) - (b.deliverAtMs ?? 0))

    const control: SimSmsControlService = {
      inbox: (phone) => mapNowMs((nowMs) => delivered(phone, nowMs)),
      lastDelivered: (phone) => mapNowMs((nowMs) => delivered(phone, nowMs).at(-1)),
      sent: Effect.sync(() => log.toArray()),
      stats: Effect.sync(() => ({ ...stats })),
      setFault: (knob, spec) => Effect.sync(() => faults.set(knob, spec)),
      faultsFired: Effect.sync(() => faults.firedCounts())
    }
    return { port: { send }, control }
  })

export const SimSmsLive = (config: SimSmsConfig = {}): Layer.Layer<SmsGateway | SimSmsControl> =>
  Layer.effectContext(
    Effect.map(makeSimSms(config), ({ control, port }) => Context.make(SmsGateway, port).pipe(Context.add(SimSmsControl, control)))
  )
