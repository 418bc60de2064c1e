import { Schema } from "effect"

/**
 * An outside service (SMS, carrier billing, provider server, payout) could not be reached or answered
 * with a server error. Always worth retrying later: outbox workers back off and try again.
 */
export class ServiceUnavailable extends Schema.TaggedError<ServiceUnavailable>()("ServiceUnavailable", {
  service: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `${this.service} is unavailable (${this.detail}); the request stays queued and will be retried`
  }
}

/** The outside service understood the request and said no. Retrying the same request will not help. */
export class ServiceRejected extends Schema.TaggedError<ServiceRejected>()("ServiceRejected", {
  service: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `${this.service} rejected the request: ${this.reason}`
  }
}
