import { Effect, Option } from "effect"
import { ApiKeys } from "./credentials/api-keys.js"

/** The operator name of the token a fresh deployment starts with. */
export const BOOTSTRAP_OPERATOR = "bootstrap"

/**
 * A fresh deployment must be reachable without editing its database: when the store has no active
 * admin token, one is issued and answered here for the caller to print once (it is never logged, and
 * as soon as it exists no other is made). Revoke it once you have made your own tokens.
 */
export const bootstrapAdminToken: Effect.Effect<Option.Option<string>, never, ApiKeys> = Effect.gen(function* () {
  const keys = yield* ApiKeys
  if (yield* keys.hasActiveAdmin) return Option.none()
  const issued = yield* keys.issue("operator", BOOTSTRAP_OPERATOR, "admin")
  return Option.some(issued.credential)
})
