import { assert, describe, it } from "@effect/vitest"
import { encodeRecord, JournalDamage, journalHeaderBytes, journalMagic, scanJournal } from "./journal-format.js"

const statement = (n: number) => ({ sql: "INSERT INTO t VALUES (?)", params: [n] })
const journal = (...parts: Array<Uint8Array>) => Buffer.concat([journalMagic, ...parts])
const damageOf = (bytes: Buffer): JournalDamage => {
  try {
    scanJournal(bytes)
  } catch (error) {
    if (error instanceof JournalDamage) return error
    throw error
  }
  throw new Error("expected the scan to refuse")
}

describe("journal format", () => {
  it("round-trips every parameter type", () => {
    const params = [0, -1.5, 2 ** 53 - 1, "héllo \u0000 ☃", null, new Uint8Array([0, 255, 7]), Number.NaN, Infinity, -Infinity]
    const [record] = scanJournal(journal(encodeRecord(1, [{ sql: "X", params }]))).records
    assert.deepStrictEqual(record?.statements, [{ sql: "X", params }])
    assert.strictEqual(record?.seq, 1)
  })

  it("reads records up to the zeros allocated ahead, which are not torn", () => {
    const scan = scanJournal(journal(encodeRecord(1, [statement(1)]), encodeRecord(2, [statement(2)]), Buffer.alloc(4096)))
    assert.deepStrictEqual(scan.records.map((r) => r.seq), [1, 2])
    assert.strictEqual(scan.tornBytes, 0)
    assert.strictEqual(scan.fileBytes - scan.end, 4096)
  })

  it("treats a record cut short as torn, in zeros or at the end of the file", () => {
    const first = encodeRecord(1, [statement(1)])
    const second = encodeRecord(2, [statement(2)])
    for (const cut of [1, 5, 9, second.length - 1]) {
      for (const tail of [Buffer.alloc(0), Buffer.alloc(100)]) {
        const scan = scanJournal(journal(first, second.subarray(0, cut), tail))
        assert.deepStrictEqual(scan.records.map((r) => r.seq), [1])
        assert.strictEqual(scan.end, journalHeaderBytes + first.length)
        assert.strictEqual(scan.tornBytes > 0, second.subarray(0, cut).some((b) => b !== 0))
      }
    }
  })

  it("refuses a damaged record with a good one after it, naming the offset", () => {
    const first = encodeRecord(1, [statement(1)])
    const second = Buffer.from(encodeRecord(2, [statement(2)]))
    second[12] = (second[12] ?? 0) ^ 0x40
    const damage = damageOf(journal(first, second, encodeRecord(3, [statement(3)])))
    assert.strictEqual(damage.offset, journalHeaderBytes + first.length)
    assert.include(damage.message, `offset ${journalHeaderBytes + first.length}`)
  })

  it("refuses a damaged length with a good record after it", () => {
    const first = Buffer.from(encodeRecord(1, [statement(1)]))
    first.writeUInt32LE(0xfffffff0, 0)
    assert.strictEqual(damageOf(journal(first, encodeRecord(2, [statement(2)]))).offset, journalHeaderBytes)
  })

  it("refuses a file that is not a journal, and a sequence that skips", () => {
    assert.strictEqual(damageOf(Buffer.from("SQLite format 3\u0000")).offset, 0)
    const skip = damageOf(journal(encodeRecord(1, [statement(1)]), encodeRecord(3, [statement(3)])))
    assert.include(skip.message, "sequence 3 after 1")
  })

  it("accepts a header cut short at creation", () => {
    const scan = scanJournal(Buffer.from(journalMagic.subarray(0, 3)))
    assert.strictEqual(scan.end, 0)
    assert.deepStrictEqual(scan.records, [])
  })
})
