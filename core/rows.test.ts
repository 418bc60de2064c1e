import { Arbitrary, Cause, Effect, Exit, Schema } from "effect"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { CardRow } from "./domain/card.js"
import { CatalogChangeRow, OfferRow } from "./domain/catalog.js"
import { CouponRow } from "./domain/coupon.js"
import { KioskRow, StockMovementRow } from "./domain/kiosk.js"
import { AccountRow, TransferRow } from "./domain/ledger.js"
import { OrderRow } from "./domain/order.js"
import { OutboxRow } from "./domain/outbox.js"
import { RedemptionRow } from "./domain/redemption.js"
import { PhoneNumber } from "./domain/ids.js"
import { DbInt } from "./domain/points.js"
import { ChallengeRow, SessionRow, UserRow } from "./domain/user.js"
import { allRows } from "./rows.js"

const schemas = {
  CardRow,
  OfferRow,
  CatalogChangeRow,
  CouponRow,
  KioskRow,
  StockMovementRow,
  TransferRow,
  AccountRow,
  OrderRow,
  OutboxRow,
  RedemptionRow,
  ChallengeRow,
  SessionRow,
  UserRow,
  WithOptional: Schema.Struct({ id: Schema.String, phone: Schema.optional(Schema.NullOr(PhoneNumber)), n: Schema.NullOr(DbInt) })
} as const

const junk: ReadonlyArray<unknown> = [null, undefined, "", "abc", "12", " 7 ", 5, -1, 0, 1.5, 2 ** 60, Number.NaN, 10n, 2n ** 70n, true, 0, 1, {}, [], "+821012345678"]

describe("row decoders", () => {
  for (const [name, schema] of Object.entries(schemas) as ReadonlyArray<[string, Schema.Schema<any, any>]>) {
    it(`answer as the schema's own parser does, values and errors, for ${name}`, () => {
      const reference = Schema.decodeUnknownEither(Schema.Array(schema))
      const decode = allRows(schema)
      const valid = Arbitrary.make(schema)
      const keys = Object.keys(Schema.isSchema(schema) && "fields" in schema ? (schema as unknown as { fields: object }).fields : {})
      const row = fc.tuple(valid, fc.array(fc.tuple(fc.constantFrom(...keys, "extra"), fc.oneof(fc.constantFrom(...junk), fc.constant("__drop__"))), { maxLength: 3 })).map(([value, changes]) => {
        const out: Record<string, unknown> = { ...(value as object) }
        for (const [key, change] of changes) {
          if (change === "__drop__") delete out[key]
          else out[key] = change
        }
        return out
      })
      fc.assert(
        fc.property(fc.array(fc.oneof(valid.map((v) => ({ ...(v as object) })), row), { maxLength: 3 }), (rows) => {
          const expected = reference(rows)
          const actual = Effect.runSyncExit(decode(rows))
          if (expected._tag === "Right") {
            expect(Exit.isSuccess(actual)).toBe(true)
            if (Exit.isSuccess(actual)) {
              expect(actual.value).toStrictEqual(expected.right)
              expect(actual.value.map((r: object) => Object.keys(r))).toEqual(expected.right.map((r: object) => Object.keys(r)))
            }
          } else {
            expect(Exit.isFailure(actual)).toBe(true)
            if (Exit.isFailure(actual)) expect(String(Cause.squash(actual.cause))).toBe(String(expected.left))
          }
        }),
        { numRuns: 300 }
      )
    })
  }
})
