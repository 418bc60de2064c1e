import { Context, Effect, Layer } from "effect"
import { type GatewayConfigError, type GatewayPorts, httpGatewaysLayer } from "../gateways/config.js"
import type { ProviderEndpoints } from "../gateways/provider-endpoints.js"
import { DemoGateways, type DemoGatewaysService } from "../server/demo-gateways.js"
import { SimServicesLive } from "../../sim/layers.js"
import { SimProvidersControl, type SimProvidersControlService } from "../../sim/providers.js"
import { SimSmsControl, type SimSmsControlService } from "../../sim/sms.js"

/**
 * The layers of the four outside ports for `serve --gateways http|demo`. `http` is the real thing,
 * configured from the environment (adapters/gateways/README.md) and refused at start-up with one
 * line naming a missing variable; it needs `ProviderEndpoints` (each merchant's server URL and
 * secret), which the server provides from its store. `demo` is the simulated services of sim/, where
 * nothing leaves the machine, with their controls as `DemoGateways` (the server's `/v1/demo`: the SMS
 * a phone received, each merchant's demo provider server). Here, in the composition root, because
 * only the CLI may wire sim/ in.
 */
export type GatewaysMode = "http" | "demo"

/** How fast the demo SMS gateway delivers: a person at a kiosk, or a test, reads the code at once. */
export const DEMO_SMS_DELIVERY_MS = 800

/** `/v1/demo`'s view of the sim SMS gateway and provider servers. */
export const demoGatewaysOf = (sms: SimSmsControlService, providers: SimProvidersControlService): DemoGatewaysService => ({
  inbox: (phone) =>
    Effect.map(sms.inbox(phone), (records) => records.map((record) => ({ text: record.text, sentAtMs: record.sentAtMs, deliveredAtMs: record.deliverAtMs ?? record.sentAtMs }))),
  setCatalog: providers.setCatalog,
  order: providers.order
})

const demoGatewaysLive = Layer.effectContext(
  Effect.map(Effect.all([SimSmsControl, SimProvidersControl]), ([sms, providers]) => Context.make(DemoGateways, demoGatewaysOf(sms, providers)))
)

export const gatewaysLayer = (mode: GatewaysMode): Layer.Layer<GatewayPorts, GatewayConfigError, ProviderEndpoints> =>
  mode === "http" ? httpGatewaysLayer : Layer.provideMerge(demoGatewaysLive, SimServicesLive({ sms: { deliveryMs: DEMO_SMS_DELIVERY_MS } }))
