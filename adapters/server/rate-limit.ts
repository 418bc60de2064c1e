import type { HttpServerRequest } from "@effect/platform"
import { parseCredential } from "./credentials/api-key-format.js"

/**
 * Per-caller rate limits: a token bucket per caller, in this server's memory. The caller is the
 * credential's key id when the request carries one of this server's credentials (`Authorization:
 * Bearer ek_…/em_…/eo_…`: each kiosk, merchant and operator has its own allowance, however many share
 * an address), else the client's address (provider webhooks, health probes, anything anonymous). A
 * key id is read before it is checked, so a made-up one gets a bucket of its own for as long as it
 * takes to refuse it with 401; buckets are forgotten once full again, and past `MAX_BUCKETS` callers
 * the newcomers share their address's bucket, so memory stays bounded whatever is sent.
 *
 * Each server counts on its own: N servers behind a balancer allow N times the rate.
 */

export interface RateLimitSettings {
  /** Requests per second each caller may sustain; 0 turns the limit off. */
  readonly perSecond: number
  /** How many a caller may send at once after a quiet spell. */
  readonly burst: number
}

export const RATE_LIMIT_DEFAULTS: RateLimitSettings = { perSecond: 50, burst: 100 }

const MAX_BUCKETS = 50_000

interface Bucket {
  tokens: number
  atMs: number
}

export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number }

/** Who a request counts against. */
export const callerOf = (request: HttpServerRequest.HttpServerRequest): { readonly credential: string | undefined; readonly address: string } => {
  const authorization = request.headers["authorization"]
  const bearer = authorization !== undefined && /^bearer /i.test(authorization) ? authorization.slice(7).trim() : undefined
  const parsed = bearer === undefined ? undefined : parseCredential(bearer)
  const address = request.remoteAddress._tag === "Some" ? request.remoteAddress.value : "unknown"
  return { credential: parsed === undefined ? undefined : `${parsed.kind}:${parsed.keyId}`, address: `address:${address}` }
}

export const makeRateLimiter = (settings: RateLimitSettings) => {
  const buckets = new Map<string, Bucket>()
  const refill = (bucket: Bucket, nowMs: number) => {
    bucket.tokens = Math.min(settings.burst, bucket.tokens + ((nowMs - bucket.atMs) * settings.perSecond) / 1000)
    bucket.atMs = nowMs
  }
  const sweep = (nowMs: number) => {
    for (const [key, bucket] of buckets) {
      refill(bucket, nowMs)
      if (bucket.tokens >= settings.burst) buckets.delete(key)
    }
  }

  /** Takes one request from the caller's allowance, or says how long until there is one. */
  const take = (caller: { readonly credential: string | undefined; readonly address: string }, nowMs: number): RateDecision => {
    if (settings.perSecond <= 0) return { allowed: true }
    let key = caller.credential ?? caller.address
    let bucket = buckets.get(key)
    if (bucket === undefined) {
      if (buckets.size >= MAX_BUCKETS) sweep(nowMs)
      if (buckets.size >= MAX_BUCKETS && caller.credential !== undefined) {
        key = caller.address
        bucket = buckets.get(key)
      }
      if (bucket === undefined) {
        bucket = { tokens: settings.burst, atMs: nowMs }
        buckets.set(key, bucket)
      }
    }
    refill(bucket, nowMs)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return { allowed: true }
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / settings.perSecond)) }
  }

  return { take, settings, size: () => buckets.size }
}

export type RateLimiter = ReturnType<typeof makeRateLimiter>
