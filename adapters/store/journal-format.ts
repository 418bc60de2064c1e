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
 * After the last record the file holds zeros: space allocated ahead (see journal-writer.ts), which
 * no record can be mistaken for, since a body is never empty.
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
  /** Non-zero bytes after `end` that form no whole record: a write cut short by a crash. */
  readonly tornBytes: number
  /** The file's size: past `end` it is zeros (space allocated ahead) or the torn bytes. */
  readonly fileBytes: number
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

const allZero = (bytes: Uint8Array): boolean => {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false
  return true
}

const lastNonZero = (bytes: Uint8Array): number => {
  for (let i = bytes.length - 1; i >= 0; i--) if (bytes[i] !== 0) return i
  return -1
}

const isRecordAt = (bytes: Buffer, offset: number, afterSeq: number): boolean => {
  if (offset + recordHeaderBytes + seqBytes > bytes.length) return false
  const bodyBytes = bytes.readUInt32LE(offset)
  const bodyEnd = offset + recordHeaderBytes + bodyBytes
  if (bodyBytes < seqBytes || bodyBytes > recordBodyBytesMax || bodyEnd > bytes.length) return false
  // A cheap plausibility test first: the checksum is only computed where a later sequence number sits.
  const seq = bytes.readBigUInt64LE(offset + recordHeaderBytes)
  if (seq <= BigInt(afterSeq) || seq > BigInt(Number.MAX_SAFE_INTEGER)) return false
  return crc32(bytes.subarray(offset + recordHeaderBytes, bodyEnd)) === bytes.readUInt32LE(offset + 4)
}

/** Where a whole, later record starts after `from`, if any: proof that damage is not at the tail. */
const findLaterRecord = (bytes: Buffer, from: number, afterSeq: number): number | undefined => {
  for (let offset = from; offset + recordHeaderBytes + seqBytes <= bytes.length; offset++) {
    if (isRecordAt(bytes, offset, afterSeq)) return offset
  }
  return undefined
}

const isValidAt = (bytes: Buffer, offset: number): boolean => {
  if (bytes.length - offset < recordHeaderBytes) return false
  const bodyBytes = bytes.readUInt32LE(offset)
  const bodyEnd = offset + recordHeaderBytes + bodyBytes
  return bodyBytes >= seqBytes && bodyBytes <= recordBodyBytesMax && bodyEnd <= bytes.length &&
    crc32(bytes.subarray(offset + recordHeaderBytes, bodyEnd)) === bytes.readUInt32LE(offset + 4)
}

/**
 * Reads a whole journal. Zeros after the last record are space allocated ahead of use. A record that
 * does not check out with no whole record anywhere after it is torn: the tail of a write cut short by
 * a crash, never acknowledged, so it is dropped. A damaged record with a good one after it means
 * acknowledged data was lost: that is reported with its offset, and nothing is dropped. (Damage to the
 * very last record cannot be told from a torn write; the dropped bytes are kept aside by the opener.)
 */
export const scanJournal = (bytes: Buffer): JournalScan => {
  const fileBytes = bytes.length
  if (bytes.length < journalHeaderBytes) {
    // A crash while the file was being created leaves a prefix of the header (or nothing).
    if (Buffer.from(journalMagic.subarray(0, bytes.length)).equals(bytes)) return { records: [], end: 0, tornBytes: bytes.length, fileBytes }
    throw new JournalDamage(0, "the file does not start with the journal header ECJRNL01")
  }
  if (!Buffer.from(journalMagic).equals(bytes.subarray(0, journalHeaderBytes))) {
    throw new JournalDamage(0, "the file does not start with the journal header ECJRNL01")
  }
  const records: Array<JournalRecord> = []
  let offset = journalHeaderBytes
  while (offset < bytes.length) {
    const previousSeq = records[records.length - 1]?.seq ?? 0
    if (!isValidAt(bytes, offset)) {
      const rest = bytes.subarray(offset)
      if (allZero(rest)) return { records, end: offset, tornBytes: 0, fileBytes }
      const later = findLaterRecord(bytes, offset + 1, previousSeq)
      if (later !== undefined) {
        throw new JournalDamage(offset, `the record at offset ${offset} is damaged (bad length or checksum), and a good record follows at offset ${later}`)
      }
      return { records, end: offset, tornBytes: lastNonZero(rest) + 1, fileBytes }
    }
    const bodyEnd = offset + recordHeaderBytes + bytes.readUInt32LE(offset)
    const record = decodeBody(bytes.subarray(offset + recordHeaderBytes, bodyEnd), offset)
    if (records.length > 0 && record.seq !== previousSeq + 1) {
      throw new JournalDamage(offset, `record at offset ${offset} has sequence ${record.seq} after ${previousSeq}`)
    }
    records.push(record)
    offset = bodyEnd
  }
  return { records, end: offset, tornBytes: 0, fileBytes }
}
