import { Context, Effect, Exit, Layer, Random, Schedule, Scope } from "effect"
import { CoreServicesLive } from "../core/services.js"
import type { MifareCard } from "../hil/mifare-card.js"
import { crt591Rig, escposRig } from "../hil/testing/fixtures.js"
import { servicesFrom, type Services } from "../sim/fleet-world.js"
import { deployment, deploymentNames } from "./deployment.js"
import { localServerSide } from "./server-side.js"
import { openDeploymentStore } from "./deployment-store.js"
import { emptyRegistry, makeOutside } from "./layer-sim.js"
import { officeOf } from "./office.js"
import { makeStation } from "./station.js"
import { offsetClock } from "./offset-clock.js"
import type { OpenOptions, ScenarioEnv, ScenarioLayer, Station, System } from "./system.js"

/**
 * The `serial` layer: each kiosk's card unit and printer are the CRT-591 and ESC/POS drivers talking
 * over socat pseudo-terminals to the wire-level emulators (`hil/`), byte for byte as they would to
 * the real devices; the core, its store and the outside services are as on the sim layer. The
 * customer's hand is the emulator's user (takes a card from the gate, or walks off; pushes a card in).
 *
 * Devices move in real time, so the deployment's clock is the real clock plus an offset: letting days
 * pass moves the offset, not the wall clock.
 */

/** How long the emulator's user waits before taking a presented card. */
const TAKE_AFTER_MS = 20

const serialStation = (index: number, services: Services) =>
  Effect.gen(function* () {
    const id = deployment.kiosks[index] ?? deployment.kiosks[0]
    const crt = yield* crt591Rig({
      wiring: "pty",
      emulator: {
        userTakesAfterMs: TAKE_AFTER_MS,
        device: { stackerCards: deployment.stackerCards, binCapacity: deployment.binCapacity, uidSeed: 0x1000 * (index + 1) }
      }
    })
    const printer = yield* escposRig({ wiring: "pty" })
    const emulator = crt.emulator
    return yield* makeStation(
      {
        index,
        id,
        cardUnit: crt.unit,
        printer: printer.printer,
        hand: {
          willTake: (take) => Effect.sync(() => (take ? emulator.disarm("card-left") : emulator.arm("card-left"))),
          takeLast: Effect.sync(() => emulator.taken.at(-1)),
          // The customer pushes the card in as soon as the unit opens front entry.
          offer: (card) =>
            Effect.sync(() => {
              const device = emulator.device
              return device.frontEntry && device.position === "none" ? emulator.insertCard(card as MifareCard) : false
            }).pipe(Effect.repeat({ schedule: Schedule.spaced(5), until: (inserted) => inserted, times: 2_000 }), Effect.forkDaemon, Effect.asVoid)
        },
        // A jam at the unit's next move, latched until an operator clears it and initialises the unit.
        setJam: (on) =>
          on ? Effect.sync(() => emulator.arm("jam")) : Effect.zipRight(Effect.sync(() => emulator.disarm("jam")), Effect.ignore(crt.unit.initialise("hold")))
      },
      services
    )
  })

const openSerial = async (options: OpenOptions): Promise<System> => {
  const scope = Effect.runSync(Scope.make())
  const time = offsetClock()
  time.startAt(deployment.startMs)
  const random = Random.make(options.seed)
  const provide = <A, E>(effect: Effect.Effect<A, E>) => effect.pipe(Effect.withClock(time.clock), Effect.withRandom(random), Effect.withTracerEnabled(false))
  try {
    const store = await openDeploymentStore(scope)
    const env = await Effect.runPromise(
      provide(
        Effect.gen(function* () {
          const core = yield* Layer.buildWithScope(CoreServicesLive, scope).pipe(Effect.provide(store))
          const real = yield* Effect.provide(servicesFrom, Context.merge(core, store))
          const services = options.wrap === undefined ? real : options.wrap(real)
          const outside = yield* makeOutside(options.seed)
          const stations: Array<Station> = []
          for (let k = 0; k < deployment.kiosks.length; k++) stations.push(yield* Scope.extend(serialStation(k, services), scope))
          for (const station of stations) yield* station.flow.startup
          const env: ScenarioEnv = { layer: "serial", names: deploymentNames, server: localServerSide(services, outside, time.advance), office: officeOf(services), stations, registry: emptyRegistry(), advance: time.advance, handMs: TAKE_AFTER_MS }
          return env
        })
      )
    )
    return {
      layer: "serial",
      run: (step) => Effect.runPromise(provide(step(env))),
      close: () => Effect.runPromise(Scope.close(scope, Exit.void))
    }
  } catch (error) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw error
  }
}

export const serialLayer: ScenarioLayer = { name: "serial", open: openSerial }
