import { describe, expect, it } from "vitest"
import { StatementCache } from "./statement-cache.js"

describe("StatementCache", () => {
  it("prepares each SQL text once, drops the least recently used past its bound, and releases it", () => {
    const prepared: Array<string> = []
    const released: Array<string> = []
    const cache = new StatementCache<string>(2, (statement) => void released.push(statement))
    const get = (sql: string) => cache.get(sql, (text) => (prepared.push(text), `stmt:${text}`))

    expect(get("a")).toBe("stmt:a")
    get("b")
    expect(get("a")).toBe("stmt:a") // reused, and now the most recently used
    get("c") // past the bound: "b" goes
    expect(prepared).toEqual(["a", "b", "c"])
    expect(released).toEqual(["stmt:b"])
    get("b") // prepared again; "a" is now the oldest
    expect(released).toEqual(["stmt:b", "stmt:a"])

    cache.clear(false)
    expect(released).toHaveLength(2)
    get("d")
    get("e")
    cache.clear(true)
    expect(released.slice(2)).toEqual(["stmt:d", "stmt:e"])
  })
})
