import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { NativeDatabase } from "./native-database.js"

const storeDirs = () => new Set(fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith("ecoupon-native-store-")))

describe("NativeDatabase", () => {
  it("keeps a temporary file database in a directory of its own, removed on close", () => {
    const before = storeDirs()
    const db = NativeDatabase.open(undefined, true)
    const created = [...storeDirs()].filter((name) => !before.has(name))
    expect(created).toHaveLength(1)
    expect(fs.existsSync(path.join(os.tmpdir(), created[0]!, "store.sqlite"))).toBe(true)
    db.exec("CREATE TABLE t (n INTEGER)")
    expect(db.run("INSERT INTO t (n) VALUES (?), (?)", [1, 2])).toBe(2)
    expect(db.values("SELECT sum(n) FROM t", [])).toEqual([[3]])
    db.close()
    expect(fs.existsSync(path.join(os.tmpdir(), created[0]!))).toBe(false)
  })

  it("keeps an in-memory database off the disk", () => {
    const before = storeDirs()
    const db = NativeDatabase.open()
    expect(storeDirs()).toEqual(before)
    db.exec("CREATE TABLE t (n INTEGER)")
    expect(db.run("INSERT INTO t (n) VALUES (?)", [5])).toBe(1)
    db.close()
  })
})
