import { Layer } from "effect"
import { type GatewayConfigError, type GatewayPorts, httpGatewaysLayer } from "../gateways/config.js"
import type { ProviderEndpoints } from "../gateways/provider-endpoints.js"
import { SimServicesLive } from "../../sim/layers.js"

/**
 * The layers of the four outside ports for `serve --gateways http|demo`. `http` is the real thing,
 * configured from the environment (adapters/gateways/README.md) and refused at start-up with one
 * line naming a missing variable; it needs `ProviderEndpoints` (each merchant's server URL and
 * secret), which the server provides from its store. `demo` is the simulated services of sim/, where
 * nothing leaves the machine. Here, in the composition root, because only the CLI may wire sim/ in.
 */
export type GatewaysMode = "http" | "demo"

export const gatewaysLayer = (mode: GatewaysMode): Layer.Layer<GatewayPorts, GatewayConfigError, ProviderEndpoints> =>
  mode === "http" ? httpGatewaysLayer : SimServicesLive()
