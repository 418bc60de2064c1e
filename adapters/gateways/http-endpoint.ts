import { Redacted } from "effect"
import type { GatewaySettings } from "./http-call.js"

/** Where one bearer-authenticated outside service (SMS, carrier billing, payout) lives and how long we wait for it. */
export interface HttpEndpoint {
  /** The service's base URL; paths are joined onto it. */
  readonly url: string
  readonly token: Redacted.Redacted<string>
  readonly timeoutMs: number
  readonly responseBytesMax: number
}

export const settingsOf = (service: string, endpoint: Pick<HttpEndpoint, "timeoutMs" | "responseBytesMax">): GatewaySettings => ({
  service,
  timeoutMs: endpoint.timeoutMs,
  responseBytesMax: endpoint.responseBytesMax
})

export const bearer = (endpoint: HttpEndpoint): { readonly authorization: string } => ({
  authorization: `Bearer ${Redacted.value(endpoint.token)}`
})
