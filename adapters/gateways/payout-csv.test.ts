import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { MerchantId, SettlementId } from "../../core/domain/ids.js"
import { makeCsvPayout } from "./payout-csv.js"

const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "ecoupon-payout-csv-"))
  dirs.push(dir)
  return join(dir, "outgoing")
}

const payout = { settlementId: SettlementId.make("stl_7"), merchantId: MerchantId.make("mer_cafe"), amount: 125_000, reference: "ecoupon stl_7" }

describe("CSV payout export", () => {
  it.effect("one file per reference, written whole; a resend writes nothing new; a reused reference is refused", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      const payouts = makeCsvPayout(dir)
      expect(yield* payouts.pay(payout)).toEqual({ payoutRef: "file:payout-ecoupon_stl_7.csv" })
      expect(readdirSync(dir)).toEqual(["payout-ecoupon_stl_7.csv"])
      expect(readFileSync(join(dir, "payout-ecoupon_stl_7.csv"), "utf8")).toBe("reference,settlement_id,merchant_id,amount\r\necoupon stl_7,stl_7,mer_cafe,125000\r\n")
      const concurrent = yield* Effect.all([payouts.pay(payout), payouts.pay(payout), payouts.pay(payout)], { concurrency: "unbounded" })
      expect(concurrent.map((r) => r.payoutRef)).toEqual(["file:payout-ecoupon_stl_7.csv", "file:payout-ecoupon_stl_7.csv", "file:payout-ecoupon_stl_7.csv"])
      const refused = yield* Effect.flip(payouts.pay({ ...payout, amount: 1 }))
      expect(refused.message).toBe("payout file export rejected the request: reference ecoupon stl_7 was already exported in payout-ecoupon_stl_7.csv for a different payout")
      // A reference that differs only in characters the file name cannot hold is caught the same way.
      expect((yield* Effect.flip(payouts.pay({ ...payout, reference: "ecoupon_stl_7" })))._tag).toBe("ServiceRejected")
      expect(readdirSync(dir)).toEqual(["payout-ecoupon_stl_7.csv"])
    }))

  it.effect("a field with a comma or quote is quoted; a directory that cannot be made is unavailable", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      yield* makeCsvPayout(dir).pay({ ...payout, reference: `ecoupon "stl_7", final` })
      expect(readFileSync(join(dir, "payout-ecoupon__stl_7___final.csv"), "utf8")).toContain(`"ecoupon ""stl_7"", final",stl_7`)
      const blocked = join(dir, "payout-ecoupon__stl_7___final.csv", "sub")
      const failed = yield* Effect.flip(makeCsvPayout(blocked).pay(payout))
      expect(failed._tag).toBe("ServiceUnavailable")
      expect(failed.message).toContain("ENOTDIR")
    }))
})
