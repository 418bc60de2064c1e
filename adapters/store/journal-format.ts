import { crc32 } from "node:zlib"
import type { SqlValue } from "./sqljs-database.js"
import type { LoggedStatement } from "./sqljs-session.js"

/**
 * The journal file, byte by byte (all integers little-endian):
 *
 *     header  8 bytes   "ECJRNL01"
 *     record  4 bytes   body length N (bytes)
 *             4 bytes   CRC-32 of the body
 *             N bytes   body: 8 bytes sequence number (u64), then UTF-8 JSON
 *                       [[sql, [param, ...]], ...] - one committed write transaction
 *
 * Parameters are JSON numbers, strings and null; a blob is {"b": base64}, a non-finite number
 * {"n": "NaN" | "Infinity" | "-Infinity"}. Sequence numbers rise by one per record across the life
 * of the database; the snapshot records the last one it contains.
 */
export const journalMagic = new TextEncoder().encode("ECJRNL01")
export const journalHeaderBytes = journalMagic.length
export const recordHeaderBytes = 8
/** A record larger than this is refused when written and treated as damage when read. */
export const recordBodyBytesMax = 64 * 1024 * 1024

const seqBytes = 8

export interface JournalRecord {
  readonly seq: number
  /** Where the record starts in the file. */
  readonly offset: number
  readonly statements: ReadonlyArray<LoggedStatement>
}

/** Why a journal cannot be used as it stands. Never repaired automatically: an operator decides. */
export class JournalDamage extends Error {
  constructor(readonly offset: number, readonly reason: string) {
    super(reason)
  }
}

export type JournalScan = {
  readonly records: ReadonlyArray<JournalRecord>
  /** End of the last good record: where the next one goes. */
  readonly end: number
  /** Bytes after `end` that form no whole record: a write cut short by a crash (to be truncated). */
  readonly tornBytes: number
}

type EncodedParam = number | string | null | { readonly b: string } | { readonly n: string }

const encodeParam = (value: SqlValue): EncodedParam => {
  if (value instanceof Uint8Array) return { b: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") }
  if (typeof value === "number" && !Number.isFinite(value)) return { n: String(value) }
  return value
}

const decodeParam = (value: unknown, offset: number): SqlValue => {
  if (value === null || typeof value === "number" || typeof value === "string") return value
  if (typeof value === "object" && value !== null) {
    if ("b" in value && typeof value.b === "string") return new Uint8Array(Buffer.from(value.b, "base64"))
    if ("n" in value && typeof value.n === "string") return Number(value.n)
  }
  throw new JournalDamage(offset, `record at offset ${offset} has a parameter it cannot decode`)
}

/** One committed write transaction as a record, header included. */
export const encodeRecord = (seq: number, statements: ReadonlyArray<LoggedStatement>): Uint8Array => {
  const json = Buffer.from(JSON.stringify(statements.map((s) => [s.sql, s.params.map(encodeParam)])), "utf8")
  const bodyBytes = seqBytes + json.length
  if (bodyBytes > recordBodyBytesMax) {
    throw new RangeError(`a transaction of ${bodyBytes} bytes exceeds the journal's record bound of ${recordBodyBytesMax}`)
  }
  const record = Buffer.allocUnsafe(recordHeaderBytes + bodyBytes)
  record.writeBigUInt64LE(BigInt(seq), recordHeaderBytes)
  json.copy(record, recordHeaderBytes + seqBytes)
  record.writeUInt32LE(bodyBytes, 0)
  record.writeUInt32LE(crc32(record.subarray(recordHeaderBytes)), 4)
  return record
}

const decodeBody = (body: Buffer, offset: number): JournalRecord => {
  const seq = Number(body.readBigUInt64LE(0))
  let parsed: unknown
  try {
    parsed = JSON.parse(body.subarray(seqBytes).toString("utf8"))
  } catch {
    throw new JournalDamage(offset, `record at offset ${offset} passes its checksum but is not valid JSON`)
  }
  if (!Array.isArray(parsed)) throw new JournalDamage(offset, `record at offset ${offset} is not a list of statements`)
  const statements = parsed.map((entry: unknown): LoggedStatement => {
    if (!Array.isArray(entry) || typeof entry[0] !== "string" || !Array.isArray(entry[1])) {
      throw new JournalDamage(offset, `record at offset ${offset} holds a malformed statement`)
    }
    return { sql: entry[0], params: entry[1].map((param: unknown) => decodeParam(param, offset)) }
  })
  return { seq, offset, statements }
}

const allZero = (bytes: Uint8Array): boolean => bytes.every((byte) => byte === 0)

/**
 * Reads a whole journal. A record cut short at the end of the file (or followed only by zeros, which
 * is how a file extended but not yet written looks after a crash) is torn: the transaction was never
 * acknowledged, so it is dropped. Anything else unreadable is damage, reported with its offset, and
 * nothing is dropped: a bad checksum with good bytes after it means acknowledged data was lost.
 */
export const scanJournal = (bytes: Buffer): JournalScan => {
  if (bytes.length < journalHeaderBytes) {
    // A crash while the file was being created leaves a prefix of the header (or nothing).
    if (Buffer.from(journalMagic.subarray(0, bytes.length)).equals(bytes)) return { records: [], end: 0, tornBytes: bytes.length }
    throw new JournalDamage(0, "the file does not start with the journal header ECJRNL01")
  }
  if (!Buffer.from(journalMagic).equals(bytes.subarray(0, journalHeaderBytes))) {
    throw new JournalDamage(0, "the file does not start with the journal header ECJRNL01")
  }
  const records: Array<JournalRecord> = []
  let offset = journalHeaderBytes
  const torn = () => ({ records, end: offset, tornBytes: bytes.length - offset })
  while (offset < bytes.length) {
    if (bytes.length - offset < recordHeaderBytes) return torn()
    const bodyBytes = bytes.readUInt32LE(offset)
    const checksum = bytes.readUInt32LE(offset + 4)
    const bodyStart = offset + recordHeaderBytes
    const bodyEnd = bodyStart + bodyBytes
    const rest = bytes.subarray(offset)
    if (bodyBytes < seqBytes || bodyBytes > recordBodyBytesMax) {
      if (allZero(rest)) return torn()
      throw new JournalDamage(offset, `record at offset ${offset} declares an impossible length of ${bodyBytes} bytes`)
    }
    if (bodyEnd > bytes.length) return torn()
    const body = bytes.subarray(bodyStart, bodyEnd)
    if (crc32(body) !== checksum) {
      if (bodyEnd === bytes.length || allZero(rest)) return torn()
      throw new JournalDamage(
        offset,
        `bad checksum in the record at offset ${offset}, with ${bytes.length - bodyEnd} bytes of later records after it`
      )
    }
    const record = decodeBody(body, offset)
    const previous = records[records.length - 1]
    if (previous !== undefined && record.seq !== previous.seq + 1) {
      throw new JournalDamage(offset, `record at offset ${offset} has sequence ${record.seq} after ${previous.seq}`)
    }
    records.push(record)
    offset = bodyEnd
  }
  return { records, end: offset, tornBytes: 0 }
}
