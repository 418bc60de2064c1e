import { closeSync, mkdtempSync, openSync, readFileSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as DurableStore from "./durable-store.js"
import { encodeRecord, scanJournal } from "./journal-format.js"
import { runMigrations } from "./migrate.js"
import { storeFiles } from "./recovery.js"
import { checkStore } from "./store-check.js"

const migratedStore = (options: Partial<DurableStore.DurableStoreOptions> = {}) =>
  Effect.gen(function* () {
    const directory = mkdtempSync(join(tmpdir(), "ecoupon-check-"))
    yield* runMigrations().pipe(Effect.provide(DurableStore.layer({ directory, ...options })))
    return directory
  })

const embedded = (directory: string) => ({ _tag: "Embedded", directory }) as const

describe("ecoupon db check", () => {
  it.live("passes a healthy store: files, replay, integrity, schema, audit", () =>
    Effect.gen(function* () {
      const directory = yield* migratedStore({ snapshotOnClose: false })
      const report = yield* checkStore(embedded(directory))
      assert.isTrue(report.ok, report.lines.join("\n"))
      assert.isTrue(report.audit?.ok)
      assert.include(report.lines.join("\n"), "SQLite integrity check")
    }))

  it.live("reports a torn last record without removing it", () =>
    Effect.gen(function* () {
      const directory = yield* migratedStore({ snapshotOnClose: false })
      const files = storeFiles(directory)
      const end = scanJournal(readFileSync(files.journal)).end
      const file = openSync(files.journal, "r+")
      writeSync(file, encodeRecord(99, [{ sql: "SELECT 1", params: [] }]).subarray(0, 10), 0, 10, end)
      closeSync(file)
      const before = readFileSync(files.journal)
      const report = yield* checkStore(embedded(directory))
      assert.isTrue(report.ok)
      assert.include(report.lines.join("\n"), `torn record at offset ${end}`)
      assert.deepStrictEqual(readFileSync(files.journal), before)
    }))

  it.live("fails an unmigrated store and refuses a missing one or one in use", () =>
    Effect.gen(function* () {
      const empty = mkdtempSync(join(tmpdir(), "ecoupon-check-"))
      const unmigrated = yield* checkStore(embedded(empty))
      assert.isFalse(unmigrated.ok)
      assert.include(unmigrated.lines.join("\n"), "run ecoupon db migrate")
      const missing = yield* Effect.flip(checkStore(embedded(join(empty, "nope"))))
      assert.include(missing.message, "there is no store at")
      const directory = yield* migratedStore()
      const inUse = yield* Effect.flip(checkStore(embedded(directory))).pipe(Effect.provide(DurableStore.layer({ directory })))
      assert.include(inUse.message, "already open in this process")
    }))
})
