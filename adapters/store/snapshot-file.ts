import { open, readFile, rename, rm } from "node:fs/promises"
import { dirname } from "node:path"
import { crc32 } from "node:zlib"

/**
 * The snapshot file, byte by byte (integers little-endian):
 *
 *     8 bytes  "ECSNAP01"
 *     8 bytes  sequence number of the last journal record the image contains (u64)
 *     4 bytes  image length N
 *     4 bytes  CRC-32 of the image
 *     N bytes  the SQLite database image (`db.export()`)
 *
 * It is only ever replaced whole: written to `<file>.tmp`, fsynced, renamed over the old one, and the
 * directory fsynced, so a crash leaves either the old snapshot or the new one, never a mixture.
 */
const magic = Buffer.from("ECSNAP01")
const headerBytes = 24

export interface Snapshot {
  readonly seq: number
  readonly image: Uint8Array
}

/** The snapshot cannot be read as written. Never replaced automatically: it may be the only copy. */
export class SnapshotDamage extends Error {
  constructor(readonly offset: number, reason: string) {
    super(reason)
  }
}

export const decodeSnapshot = (bytes: Buffer): Snapshot => {
  if (bytes.length < headerBytes || !magic.equals(bytes.subarray(0, magic.length))) {
    throw new SnapshotDamage(0, "the file does not start with the snapshot header ECSNAP01")
  }
  const seq = Number(bytes.readBigUInt64LE(8))
  const imageBytes = bytes.readUInt32LE(16)
  const checksum = bytes.readUInt32LE(20)
  if (headerBytes + imageBytes !== bytes.length) {
    throw new SnapshotDamage(16, `the header declares an image of ${imageBytes} bytes but the file holds ${bytes.length - headerBytes}`)
  }
  const image = bytes.subarray(headerBytes)
  if (crc32(image) !== checksum) throw new SnapshotDamage(headerBytes, "the database image does not match its checksum")
  return { seq, image }
}

export const encodeSnapshot = (snapshot: Snapshot): Buffer => {
  const header = Buffer.alloc(headerBytes)
  magic.copy(header, 0)
  header.writeBigUInt64LE(BigInt(snapshot.seq), 8)
  header.writeUInt32LE(snapshot.image.length, 16)
  header.writeUInt32LE(crc32(snapshot.image), 20)
  return Buffer.concat([header, snapshot.image])
}

/** The snapshot at `path`, or undefined when there is none yet. Throws SnapshotDamage. */
export const readSnapshot = async (path: string): Promise<Snapshot | undefined> => {
  const bytes = await readFileIfPresent(path)
  return bytes === undefined ? undefined : decodeSnapshot(bytes)
}

/** Replaces the snapshot at `path` atomically and durably (see the format above). */
export const writeSnapshot = async (path: string, snapshot: Snapshot): Promise<void> => {
  const temporary = `${path}.tmp`
  const file = await open(temporary, "w")
  try {
    await file.writeFile(encodeSnapshot(snapshot))
    await file.sync()
  } finally {
    await file.close()
  }
  await rename(temporary, path)
  await syncDirectory(dirname(path))
}

/** A leftover `.tmp` is a snapshot that was never renamed into place: never part of the database. */
export const removeUnfinishedSnapshot = (path: string): Promise<void> => rm(`${path}.tmp`, { force: true })

/** Makes a rename or a file creation in `directory` durable. */
export const syncDirectory = async (directory: string): Promise<void> => {
  const handle = await open(directory, "r")
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

export const isNotFound = (cause: unknown): boolean =>
  typeof cause === "object" && cause !== null && "code" in cause && cause.code === "ENOENT"

/** The bytes of the file at `path`, or undefined when there is no such file; other failures reject. */
export const readFileIfPresent = async (path: string): Promise<Buffer | undefined> => {
  try {
    return await readFile(path)
  } catch (cause) {
    if (isNotFound(cause)) return undefined
    throw cause
  }
}
