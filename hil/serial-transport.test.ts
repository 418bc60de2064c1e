import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { makeMockPair } from "./mock-pair.js"
import { openPtyPair, ptyPair } from "./pty.js"
import { openLink } from "./serial-transport.js"
import { socatAvailable } from "./testing/socat.js"

/** The transport on its own: open, move bytes both ways, time out, and report a port that went away. */

describe("serial transport", () => {
  it.scopedLive.skipIf(!socatAvailable)("moves bytes both ways over a socat pty pair and times out on silence", () =>
    Effect.gen(function* () {
      const pair = yield* ptyPair()
      const a = yield* openLink({ path: pair.pathA, device: "test A" })
      const b = yield* openLink({ path: pair.pathB, device: "test B" })
      yield* a.write(Uint8Array.of(1, 2, 3))
      expect(Array.from(Option.getOrThrow(yield* b.read(1000)))).toEqual([1, 2, 3])
      yield* b.write(Uint8Array.of(4))
      expect(Array.from(Option.getOrThrow(yield* a.read(1000)))).toEqual([4])
      const started = performance.now()
      expect(Option.isNone(yield* a.read(30))).toBe(true)
      expect(performance.now() - started).toBeGreaterThanOrEqual(25)
      yield* b.write(Uint8Array.of(9, 9))
      // socat forwards when the machine lets it: gather what arrives, for at most 5 s.
      let discarded = 0
      for (let i = 0; i < 500 && discarded < 2; i++) {
        yield* Effect.sleep(10)
        discarded += yield* a.discardInput
      }
      expect(discarded).toBe(2)
    })
  )

  it.scopedLive("moves bytes over the in-process mock pair", () =>
    Effect.gen(function* () {
      const pair = makeMockPair("transport")
      const a = yield* openLink({ path: pair.pathA, device: "A", binding: pair.binding })
      const b = yield* openLink({ path: pair.pathB, device: "B", binding: pair.binding })
      yield* a.write(Uint8Array.of(0xf2))
      expect(Array.from(Option.getOrThrow(yield* b.read(1000)))).toEqual([0xf2])
    })
  )

  it.scopedLive("fails with Offline, saying why, when the port cannot be opened", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(openLink({ path: "/dev/does-not-exist-ecoupon", device: "CRT-591 on /dev/does-not-exist-ecoupon" }))
      expect(error._tag).toBe("Offline")
      expect(error.message).toContain("cannot open /dev/does-not-exist-ecoupon")
    })
  )

  it.scopedLive.skipIf(!socatAvailable)("fails with Offline when the other end of the cable disappears", () =>
    Effect.gen(function* () {
      const pair = yield* Effect.promise(() => openPtyPair())
      const a = yield* openLink({ path: pair.pathA, device: "test A" })
      yield* Effect.promise(() => pair.close())
      // The kernel reports the vanished pty once socat has exited; on a busy machine that can take a
      // while, so wait up to 10 s (the test still fails if it never does).
      const error = yield* Effect.flip(Effect.gen(function* () {
        for (let i = 0; i < 500; i++) yield* a.read(20)
        return "still open"
      }))
      expect(error._tag).toBe("Offline")
      expect(error.message).toContain("went away")
    })
  )
})
