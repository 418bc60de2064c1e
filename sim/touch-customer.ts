import { Clock, Effect, Option, Schedule, Stream } from "effect"
import type { SimHands } from "./customer-hands.js"
import type { DeviceRandom } from "./rng.js"

/**
 * A simulated customer at a kiosk's touchscreen, in real time: taps through the journey the kiosk
 * agent runs (welcome, phone number, the code read off their phone, an offer, quantity and medium,
 * confirm, take the card, receipt), or brings the last card they bought back. What `ecoupon demo`
 * runs on every kiosk but the one left for a person. It sees the screen the agent would push to the
 * page and sends the page's choices, so everything behind the glass (the agent, the flow, the server
 * over HTTP, the devices) is the real thing; only the person is simulated.
 *
 * The shapes below are the agent's (adapters/kiosk-agent/journey-view.ts), declared here
 * structurally: sim/ does not import adapters/.
 */

export interface TouchOffer {
  readonly offerId: string
  readonly merchantId: string
  readonly pricePoints: number
  readonly stock: number
}

export interface TouchView {
  readonly screen: string
  readonly busy: boolean
  readonly notice: unknown
  readonly balancePoints: number | null
  readonly offers: ReadonlyArray<TouchOffer>
  readonly receipt:
    | { readonly kind: "delivered"; readonly couponCode: string; readonly valuePoints: number }
    | { readonly kind: string }
    | null
  readonly returnResult: { readonly kind: string } | null
}

export type TouchAction =
  | { readonly _tag: "start" }
  | { readonly _tag: "return" }
  | { readonly _tag: "phone"; readonly digits: string }
  | { readonly _tag: "code"; readonly code: string }
  | { readonly _tag: "offer"; readonly offerId: string }
  | { readonly _tag: "order"; readonly quantity: number; readonly medium: "card" | "paper" }
  | { readonly _tag: "confirm" }
  | { readonly _tag: "finish" }

export interface TouchScreen {
  /** The current view first, then every change. */
  readonly views: Stream.Stream<TouchView>
  readonly act: (action: TouchAction) => Effect.Effect<void, unknown>
}

/** The customer's phone: the newest one-time code that reached it after `afterMs`, if any. */
export type ReadCode = (phoneDigits: string, afterMs: number) => Effect.Effect<Option.Option<string>>

export interface TouchCustomerParams {
  /** Think time between two taps, drawn uniformly. */
  readonly tapMs: readonly [number, number]
  /** Between one customer leaving and the next arriving. */
  readonly arrivalMs: readonly [number, number]
  /** Share of visits that bring a card back rather than buy. */
  readonly returnShare: number
  /** Share of purchases printed on paper rather than written on a card. */
  readonly paperShare: number
  /** How many phone numbers the customers have (a number comes back often once registered). */
  readonly phones: number
  /** How long a screen or a text message is waited for before the customer gives up. */
  readonly patienceMs: number
}

/** Every tap within about a second: a kiosk serves a customer every ten seconds or so. */
export const acceleratedTouchCustomers: TouchCustomerParams = {
  tapMs: [150, 600],
  arrivalMs: [500, 3_000],
  returnShare: 0.15,
  paperShare: 0.25,
  phones: 2_000,
  patienceMs: 15_000
}

/** How a visit ended, for the caller's counters (never the phone number). */
export type VisitOutcome =
  | { readonly _tag: "Bought"; readonly couponCode: string; readonly merchantId: string; readonly valuePoints: number }
  | { readonly _tag: "Returned" }
  | { readonly _tag: "GaveUp"; readonly at: string }

/** `010` and eight digits, as a Korean customer types their number. */
export const phoneDigitsOf = (n: number): string => `0109${String(n).padStart(7, "0")}`

const between = (random: DeviceRandom, [lo, hi]: readonly [number, number]) => lo + random.int(Math.max(1, hi - lo + 1))

class GaveUp {
  constructor(readonly at: string) {}
}

/** One visit: arrive at the welcome screen, buy or return, and leave it at welcome again. */
export const visitKiosk = (screen: TouchScreen, readCode: ReadCode, random: DeviceRandom, hands: SimHands, params: TouchCustomerParams): Effect.Effect<VisitOutcome> => {
  const think = Effect.suspend(() => Effect.sleep(between(random, params.tapMs)))
  /** Waits for a settled screen that `accept` takes; gives up after the customer's patience. */
  const until = (what: string, accept: (view: TouchView) => boolean) =>
    screen.views.pipe(
      Stream.filter((view) => !view.busy && accept(view)),
      Stream.runHead,
      Effect.timeoutFail({ duration: params.patienceMs, onTimeout: () => new GaveUp(what) }),
      Effect.flatMap(Option.match({ onNone: () => Effect.fail(new GaveUp(what)), onSome: Effect.succeed }))
    )
  const tap = (action: TouchAction) => Effect.zipRight(think, Effect.mapError(screen.act(action), () => new GaveUp(`tap ${action._tag}`)))

  const buy = Effect.gen(function* () {
    const phone = phoneDigitsOf(random.int(params.phones))
    yield* tap({ _tag: "start" })
    yield* until("phone", (v) => v.screen === "phone")
    const askedAtMs = yield* Clock.currentTimeMillis
    yield* tap({ _tag: "phone", digits: phone })
    const coded = yield* until("code screen", (v) => v.screen === "code" || v.notice !== null)
    if (coded.screen !== "code") return yield* Effect.fail(new GaveUp("phone refused"))
    const code = yield* readCode(phone, askedAtMs).pipe(
      Effect.flatMap(Option.match({ onNone: () => Effect.fail("none" as const), onSome: Effect.succeed })),
      Effect.retry({ schedule: Schedule.spaced(200), times: Math.ceil(params.patienceMs / 200) }),
      Effect.mapError(() => new GaveUp("no text message"))
    )
    yield* tap({ _tag: "code", code })
    const offers = yield* until("offers", (v) => v.screen === "offers" || v.notice !== null)
    if (offers.screen !== "offers") return yield* Effect.fail(new GaveUp("code refused"))
    const balance = offers.balancePoints ?? 0
    const affordable = offers.offers.filter((o) => o.stock > 0 && o.pricePoints <= balance)
    const offer = affordable[random.int(Math.max(1, affordable.length))]
    if (offer === undefined) return yield* Effect.fail(new GaveUp("nothing affordable"))
    yield* tap({ _tag: "offer", offerId: offer.offerId })
    yield* until("order", (v) => v.screen === "order")
    const quantity = offer.pricePoints * 2 <= balance && random.next() < 0.2 ? 2 : 1
    yield* tap({ _tag: "order", quantity, medium: random.next() < params.paperShare ? "paper" : "card" })
    const confirm = yield* until("confirm", (v) => v.screen === "confirm" || v.notice !== null)
    if (confirm.screen !== "confirm") return yield* Effect.fail(new GaveUp("order refused"))
    yield* tap({ _tag: "confirm" })
    // The card unit's own customer takes the card at the gate (sim hardware's default hand).
    const done = yield* until("receipt", (v) => v.screen === "receipt" || v.screen === "order" || v.screen === "offers" || v.screen === "welcome")
    const receipt = done.receipt
    return receipt !== null && receipt.kind === "delivered" && "couponCode" in receipt
      ? ({ _tag: "Bought", couponCode: receipt.couponCode, merchantId: offer.merchantId, valuePoints: receipt.valuePoints } satisfies VisitOutcome)
      : ({ _tag: "GaveUp", at: `purchase ${done.screen}${receipt === null ? "" : ` ${receipt.kind}`}` } satisfies VisitOutcome)
  })

  const giveBack = Effect.gen(function* () {
    yield* tap({ _tag: "return" })
    yield* until("insert card", (v) => v.screen === "return-insert")
    yield* think
    if (!(yield* hands.insert)) return { _tag: "GaveUp", at: "no card to return" } satisfies VisitOutcome
    const result = yield* until("return result", (v) => v.screen === "return-result" || v.screen === "welcome")
    return result.returnResult?.kind === "returned" ? ({ _tag: "Returned" } satisfies VisitOutcome) : ({ _tag: "GaveUp", at: `return ${result.returnResult?.kind ?? result.screen}` } satisfies VisitOutcome)
  })

  return Effect.gen(function* () {
    yield* until("welcome", (v) => v.screen === "welcome")
    const outcome = yield* random.next() < params.returnShare ? giveBack : buy
    return outcome
  }).pipe(
    Effect.catchAll((error) => Effect.succeed<VisitOutcome>({ _tag: "GaveUp", at: error instanceof GaveUp ? error.at : "tap refused" })),
    // Leave the kiosk at its first screen, as a customer who walks away does after the idle timeout.
    Effect.tap(() => Effect.ignore(screen.act({ _tag: "finish" })))
  )
}

/**
 * Whether customers may come in, and how many are at a screen now: closing it lets those at a
 * screen finish their visit (the caller waits for `visiting` to reach 0) and lets nobody new in.
 */
export interface CustomerDoor {
  open: boolean
  visiting: number
}

/** Customers one after the other at one kiosk while the door is open. */
export const touchCustomers = (
  screen: TouchScreen,
  readCode: ReadCode,
  random: DeviceRandom,
  hands: SimHands,
  params: TouchCustomerParams,
  onVisit: (outcome: VisitOutcome) => Effect.Effect<void>,
  door: CustomerDoor
): Effect.Effect<void> =>
  Effect.gen(function* () {
    while (true) {
      yield* Effect.sleep(between(random, params.arrivalMs))
      if (!door.open) return
      door.visiting++
      yield* Effect.flatMap(visitKiosk(screen, readCode, random, hands, params), onVisit).pipe(Effect.ensuring(Effect.sync(() => void door.visiting--)))
    }
  })
