import { HttpApiBuilder } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { migrations } from "../../core/migrations/index.js"
import { EcouponApi } from "../http-api/api.js"
import { makeProblem } from "../http-api/problem.js"
import { migrationsTable } from "../store/migrate.js"

/** Health: `/healthz` answers while the process runs; `/readyz` when the store answers and its schema is current. */
export const healthHttpLive = (storeDescription: string) =>
  HttpApiBuilder.group(EcouponApi, "health", (handlers) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const known = Object.keys(migrations).length
      const notReady = (detail: string) => makeProblem(503, "not-ready", "Not ready", detail)
      return handlers
        .handle("healthz", () => Effect.succeed({ status: "ok" as const }))
        .handle("readyz", () =>
          Effect.gen(function* () {
            const applied = yield* sql`SELECT COUNT(*) AS n FROM ${sql(migrationsTable)}`.pipe(
              Effect.map((rows) => Number(rows[0]?.["n"] ?? 0)),
              Effect.mapError(() => notReady(`the store (${storeDescription}) does not answer; see the server's log`))
            )
            if (applied < known) return yield* Effect.fail(notReady(`the store has ${applied} of ${known} migrations; run: ecoupon db migrate`))
            return { status: "ready" as const, store: storeDescription, migrationsApplied: applied, migrationsKnown: known }
          })
        )
    })
  )
