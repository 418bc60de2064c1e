import { serialLayer } from "./layer-serial.js"
import { httpLayer } from "./layer-http.js"
import { simLayer } from "./layer-sim.js"
import type { LayerName, ScenarioLayer } from "./system.js"

/** The layers the runner can use, by name: only the ones that are built. */
export const layers: Partial<Record<LayerName, ScenarioLayer>> = { sim: simLayer, serial: serialLayer, http: httpLayer }

export const layerNames = Object.keys(layers) as ReadonlyArray<LayerName>
