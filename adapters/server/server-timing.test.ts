import { describe, expect, it } from "@effect/vitest"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import * as DurableStore from "../store/durable-store.js"
import { runMigrations } from "../store/migrate.js"
import { liveServer } from "./testing.js"

/**
 * The Server-Timing header over real HTTP on the durable store: a write's answer accounts for its
 * statements, its wait for the database lock and its wait for the journal's fsync, each within the
 * request's own time; an answer that touched no store says only the request's time.
 */
const durableStore = (directory: string) =>
  Layer.effectDiscard(Effect.orDie(runMigrations())).pipe(Layer.provideMerge(Layer.orDie(DurableStore.layer({ directory, snapshotOnClose: false }))))

const timingsOf = (header: string | null): Record<string, number> =>
  Object.fromEntries(
    (header ?? "").split(",").map((entry) => {
      const [name, ...params] = entry.trim().split(";")
      return [name ?? "", Number(params.find((param) => param.startsWith("dur="))?.slice(4))]
    })
  )

describe("Server-Timing", () => {
  it.scopedLive("says where a write spent its time in the durable store, within the request's time", () =>
    Effect.gen(function* () {
      const directory = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "ecoupon-server-timing-"))),
        (path) => Effect.sync(() => rmSync(path, { recursive: true, force: true }))
      )
      const server = yield* liveServer(durableStore(directory))
      const token = yield* server.issue("operator", "timing-test", "admin")
      const response = yield* Effect.promise(() =>
        fetch(`${server.baseUrl}/v1/ops/institutions`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ id: "ins_timing", name: "Timing" })
        }))
      expect(response.status).toBe(200)
      const write = timingsOf(response.headers.get("server-timing"))
      expect(Object.keys(write)).toEqual(["app", "db", "dblock", "fsync"])
      // The credential lookup and the insert ran statements; the insert waited for its fsync.
      expect(write["db"]).toBeGreaterThan(0)
      expect(write["fsync"]).toBeGreaterThan(0)
      expect(write["app"]).toBeGreaterThanOrEqual((write["db"] ?? 0) + (write["dblock"] ?? 0) + (write["fsync"] ?? 0))

      const health = yield* Effect.promise(() => fetch(`${server.baseUrl}/healthz`))
      expect(Object.keys(timingsOf(health.headers.get("server-timing")))).toEqual(["app"])
    }))
})
