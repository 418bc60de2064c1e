import type { Command } from "./commands.js"

/**
 * The named scenarios QA read and run: one or more per patent claim (DESIGN §1) and one per fault
 * story of issue 11. Each is a short given/when/then and the commands that act it out; the runner
 * holds every step to the model (`model.ts`) and ends every scenario with the auditor. `smoke` is a
 * quick subset; `full` runs them all plus the model-based suite.
 */

export interface Scenario {
  readonly name: string
  /** "claim 6", "fault story"... */
  readonly covers: string
  readonly given: string
  readonly when: string
  readonly then: string
  readonly smoke: boolean
  readonly commands: ReadonlyArray<Command>
}

const register = (customer = 0, kiosk = 0): Command => ({ _tag: "Register", customer, kiosk })
const buy = (medium: "card" | "paper" | "phone", options: { customer?: number; kiosk?: number; offer?: number; quantity?: number; takes?: boolean } = {}): Command => ({
  _tag: "Buy",
  customer: options.customer ?? 0,
  kiosk: options.kiosk ?? 0,
  offer: options.offer ?? 0,
  quantity: options.quantity ?? 1,
  medium,
  takes: options.takes ?? true
})
const fault = (name: Extract<Command, { readonly _tag: "Fault" }>["fault"], on: boolean): Command => ({ _tag: "Fault", fault: name, on })

export const catalog: ReadonlyArray<Scenario> = [
  {
    name: "claim-1-order-at-kiosk",
    covers: "claim 1",
    given: "a kiosk showing the offers the merchants' provider servers keep current, and a customer known by their phone number",
    when: "the customer orders an offer at the kiosk",
    then: "the server issues a coupon for the order and manages it: its points leave the customer, the offer's stock drops",
    smoke: true,
    commands: [register(), buy("card")]
  },
  {
    name: "claim-2-server-modules",
    covers: "claim 2",
    given: "two kiosks in two regions, two merchants each with a provider server",
    when: "customers order at both kiosks from both merchants",
    then: "the coupon module issues both coupons, the provider module sends each order to its merchant's server, the database holds it all",
    smoke: false,
    commands: [register(0, 0), register(1, 1), buy("paper", { offer: 0 }), buy("phone", { customer: 1, kiosk: 1, offer: 1 })]
  },
  {
    name: "claim-3-register-identify-grant",
    covers: "claims 3, 5",
    given: "a person the system has never seen",
    when: "they register at a kiosk with a code sent to their phone, identify again at another kiosk, get campaign points and spend them",
    then: "they are registered once with the welcome points, identified the second time, and every use of points is recorded against the coupon",
    smoke: true,
    commands: [register(1, 0), register(1, 1), { _tag: "Grant", customer: 1, points: 5_000 }, buy("paper", { customer: 1, kiosk: 1, offer: 1, quantity: 2 }), { _tag: "Redeem", coupon: 0, part: "part" }]
  },
  {
    name: "claim-4-merchant-update-and-settlement",
    covers: "claims 4, 7",
    given: "a registered merchant whose coupons were redeemed",
    when: "its provider server changes the offer's price and stock, a customer buys at the new price, the merchant redeems, and the period is settled",
    then: "kiosks sell at the new price at once, and the merchant is paid exactly the points redeemed through its coupons",
    smoke: false,
    commands: [register(), { _tag: "MerchantUpdate", offer: 0, pricePoints: 2_000, stock: 4 }, buy("paper"), { _tag: "Redeem", coupon: 0, part: "all" }, { _tag: "PassDays", days: 1 }, { _tag: "Settle" }]
  },
  {
    name: "claim-5-phone-number-identifies",
    covers: "claim 5",
    given: "a customer registered with their own mobile number",
    when: "they come back to either kiosk and type the code sent to that number",
    then: "the number alone identifies them (and it never appears in a result or a report)",
    smoke: false,
    commands: [register(2, 1), register(2, 0), buy("phone", { customer: 2 })]
  },
  {
    name: "claim-6-coupon-output-at-kiosk",
    covers: "claim 6",
    given: "an identified customer at a kiosk",
    when: "they order on paper",
    then: "the matching coupon is issued from the merchant's offer and printed at the kiosk",
    smoke: true,
    commands: [register(), buy("paper", { offer: 1 })]
  },
  {
    name: "claim-7-real-time-merchant-info",
    covers: "claim 7",
    given: "a kiosk showing an offer",
    when: "the merchant's server pushes a new price, then sells out, before customers order",
    then: "the next order pays the new price, and the one after is refused as out of stock",
    smoke: false,
    commands: [register(), { _tag: "MerchantUpdate", offer: 0, pricePoints: 900, stock: 1 }, buy("paper"), buy("paper")]
  },
  {
    name: "claim-8-issue-updates-ledger-and-provider",
    covers: "claim 8",
    given: "a registered customer with points",
    when: "they buy two of an offer",
    then: "the points ledger moves the price of both into the coupon, and the order content reaches the merchant's provider server",
    smoke: false,
    commands: [register(), buy("phone", { quantity: 2 })]
  },
  {
    name: "claim-9-coupon-on-card",
    covers: "claim 9",
    given: "a kiosk with blank cards in its stacker",
    when: "a customer orders on a card and takes it",
    then: "the card carries the coupon: the kiosk wrote and read it back, and the merchant redeems from it",
    smoke: true,
    commands: [register(), buy("card"), { _tag: "Redeem", coupon: 0, part: "part" }]
  },
  {
    name: "claim-10-returned-card-to-institution",
    covers: "claim 10",
    given: "a customer holding a card with part of its coupon left",
    when: "they return the card at the kiosk",
    then: "the kiosk captures it and what is left goes to the region's institution; no deposit is ever charged",
    smoke: true,
    commands: [register(), buy("card"), { _tag: "Redeem", coupon: 0, part: "part" }, { _tag: "ReturnCard", card: 0, kiosk: 0 }, { _tag: "PassDays", days: 15 }]
  },
  {
    name: "claim-11-unreturned-card-billed",
    covers: "claim 11",
    given: "a customer holding a card",
    when: "the return deadline passes without the card coming back",
    then: "the deposit is charged to their phone bill through carrier billing, once, and what was left goes to the institution",
    smoke: true,
    commands: [register(), buy("card"), { _tag: "PassDays", days: 15 }, { _tag: "PassDays", days: 1 }]
  },
  {
    name: "story-jam-mid-dispense",
    covers: "fault story",
    given: "a card unit that jams as it moves a card",
    when: "a customer orders on a card, then an operator clears the jam and they order again",
    then: "the first order is aborted with nothing spent, the second is delivered",
    smoke: true,
    commands: [register(), fault("card.jam", true), buy("card"), fault("card.jam", false), buy("card")]
  },
  {
    name: "story-card-not-taken",
    covers: "fault story",
    given: "a customer who walks off before taking the card from the gate",
    when: "the card sits at the gate past the timeout",
    then: "the kiosk captures it, the order is aborted, the points come back and the card is in the bin",
    smoke: true,
    commands: [register(), buy("card", { takes: false })]
  },
  {
    name: "story-sms-lost-and-resent",
    covers: "fault story",
    given: "an SMS gateway that loses messages",
    when: "a new customer asks for a code, none comes, the gateway recovers and they ask again",
    then: "the first attempt registers nobody, the second registers them once",
    smoke: false,
    commands: [fault("sms.loss", true), register(), fault("sms.loss", false), register()]
  },
  {
    name: "story-provider-outage-during-delivery",
    covers: "fault story",
    given: "a merchant's provider server that is down",
    when: "a customer's order is delivered, and the server comes back later",
    then: "the coupon is issued at once, and the order reaches the provider exactly once after it recovers",
    smoke: false,
    commands: [register(), fault("provider.outage", true), buy("paper"), { _tag: "Wait", minutes: 60 }, fault("provider.outage", false)]
  },
  {
    name: "story-carrier-decline",
    covers: "fault story",
    given: "a customer whose carrier declines the deposit charge",
    when: "their card goes overdue, and they return it later",
    then: "the charge is declined and nothing is booked; the late card is still taken back",
    smoke: false,
    commands: [register(), buy("card"), fault("carrier.decline", true), { _tag: "PassDays", days: 15 }, { _tag: "ReturnCard", card: 0, kiosk: 1 }]
  },
  {
    name: "story-carrier-outage",
    covers: "fault story",
    given: "carrier billing that is down when a card goes overdue",
    when: "the outage lasts a while, then ends",
    then: "the deposit charge waits and goes through once, after the outage",
    smoke: false,
    commands: [register(), buy("card"), fault("carrier.outage", true), { _tag: "PassDays", days: 15 }, { _tag: "Wait", minutes: 60 }, fault("carrier.outage", false)]
  },
  {
    name: "story-card-returned-elsewhere",
    covers: "fault story",
    given: "a card bought in the north region",
    when: "it is returned at the kiosk of the south region",
    then: "the south kiosk captures it and what is left goes to the south region's institution",
    smoke: true,
    commands: [register(), buy("card"), { _tag: "ReturnCard", card: 0, kiosk: 1 }]
  },
  {
    name: "story-power-cut-mid-order",
    covers: "fault story",
    given: "a kiosk that loses power in the middle of card orders",
    when: "it restarts and reconciles its journal: once after the customer took the card, once as the card was leaving the stacker, once before the server heard of the order",
    then: "the first order is delivered, the second aborted with nothing spent, the third forgotten",
    smoke: true,
    commands: [register(), { _tag: "PowerCut", customer: 0, kiosk: 0, offer: 0, stage: "handed-over" }, { _tag: "PowerCut", customer: 0, kiosk: 0, offer: 0, stage: "dispensing" }, { _tag: "PowerCut", customer: 0, kiosk: 0, offer: 0, stage: "placing" }]
  },
  {
    name: "story-redemption-racing-rollback",
    covers: "fault story",
    given: "a coupon partly redeemed",
    when: "the merchant rolls the redemption back and redeems everything at once, rolls back twice, then settles and tries a rollback too late",
    then: "the rolled-back points are redeemable again, a second rollback changes nothing, a settled redemption cannot be rolled back",
    smoke: false,
    commands: [
      register(),
      buy("paper"),
      { _tag: "Redeem", coupon: 0, part: "part" },
      { _tag: "Rollback", redemption: 0 },
      { _tag: "Redeem", coupon: 0, part: "all" },
      { _tag: "Rollback", redemption: 0 },
      { _tag: "PassDays", days: 1 },
      { _tag: "Settle" },
      { _tag: "Rollback", redemption: 1 }
    ]
  },
  {
    name: "story-settlement-at-period-boundary",
    covers: "fault story",
    given: "redemptions a few minutes either side of midnight",
    when: "the period is settled just after midnight, and again a day later",
    then: "the first statement holds only the redemption before midnight, the second only the one after; none is in two statements",
    smoke: false,
    commands: [register(), buy("paper"), { _tag: "Wait", minutes: 875 }, { _tag: "Redeem", coupon: 0, part: "part" }, { _tag: "Redeem", coupon: 0, part: "part" }, { _tag: "Settle" }, { _tag: "PassDays", days: 1 }, { _tag: "Settle" }]
  },
  {
    name: "story-expired-coupon",
    covers: "fault story",
    given: "a coupon partly redeemed and never used again",
    when: "its validity runs out",
    then: "what was left goes to the institution, and a later redemption is refused",
    smoke: false,
    commands: [register(), buy("paper"), { _tag: "Redeem", coupon: 0, part: "part" }, { _tag: "PassDays", days: 91 }, { _tag: "Redeem", coupon: 0, part: "part" }]
  }
]

export const scenarioNamed = (name: string): Scenario | undefined => catalog.find((scenario) => scenario.name === name)
