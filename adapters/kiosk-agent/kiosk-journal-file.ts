import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs"
import { join } from "node:path"
import { Effect, Either, Layer, Schema } from "effect"
import { CardUid, OrderId } from "../../core/domain/ids.js"
import { type InFlightOrder, KioskJournal, type KioskJournalService } from "../../core/ports/kiosk-journal.js"

/**
 * The kiosk's journal of orders in flight, on disk under the agent's state directory (the durable
 * `KioskJournal`; the simulator's is sim/kiosk-journal.ts). A kiosk has a handful of orders in flight
 * at most, so every change rewrites the whole set: written to `in-flight.json.tmp`, fsynced, renamed
 * over `in-flight.json`, and the directory fsynced, all before `put` or `remove` returns, so the flow
 * never moves past a step its journal does not hold. A power cut mid-write leaves a torn temporary
 * file and the previous journal whole; the next start ignores and removes the temporary file.
 *
 * A journal that cannot be written or read is a defect: a kiosk that cannot remember what it is
 * doing must stop rather than hand out coupons it could not reconcile.
 */

export const JOURNAL_FILE = "in-flight.json"
const TEMP_SUFFIX = ".tmp"
/** Far beyond a kiosk's few orders in flight: more means it stopped reconciling (as sim/kiosk-journal.ts). */
export const FILE_JOURNAL_ENTRIES_MAX = 1_000

const Entry = Schema.Struct({
  orderId: OrderId,
  medium: Schema.Literal("card", "paper", "phone"),
  stage: Schema.Literal("placing", "dispensing", "card-issued", "printing", "handed-over", "aborting"),
  cardUid: Schema.NullOr(CardUid),
  abortReason: Schema.NullOr(Schema.String),
  cardRetained: Schema.Boolean,
  updatedAtMs: Schema.Int
})
const JournalDocument = Schema.parseJson(Schema.Struct({ version: Schema.Literal(1), entries: Schema.Array(Entry) }))
const decodeDocument = Schema.decodeUnknownEither(JournalDocument)
const encodeDocument = Schema.encodeSync(JournalDocument)

const writeDurably = (dir: string, text: string) => {
  const path = join(dir, JOURNAL_FILE)
  const temp = path + TEMP_SUFFIX
  const fd = openSync(temp, "w", 0o600)
  try {
    const bytes = Buffer.from(text, "utf8")
    let written = 0
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temp, path)
  // The rename is durable only once the directory entry is.
  const dirFd = openSync(dir, "r")
  try {
    fsyncSync(dirFd)
  } finally {
    closeSync(dirFd)
  }
}

const readJournal = (dir: string): ReadonlyArray<InFlightOrder> => {
  const path = join(dir, JOURNAL_FILE)
  // Whatever a power cut left half-written never replaced the journal: drop it.
  rmSync(path + TEMP_SUFFIX, { force: true })
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (cause) {
    if (typeof cause === "object" && cause !== null && "code" in cause && cause.code === "ENOENT") return []
    throw cause
  }
  const decoded = decodeDocument(text)
  if (Either.isLeft(decoded)) {
    throw new Error(
      `kiosk journal ${path} is not a journal this agent wrote (${decoded.left.message.split("\n")[0]}); ` +
        "move it aside and reconcile its orders by hand with the operators before starting the agent"
    )
  }
  return decoded.right.entries
}

/** Opens (or creates) the journal in `dir`; the orders it held are there for `reconcile`. */
export const openKioskJournalFile = (dir: string): Effect.Effect<KioskJournalService> =>
  Effect.sync(() => {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const entries = new Map<OrderId, InFlightOrder>(readJournal(dir).map((entry) => [entry.orderId, entry]))
    /** Writes the set as it is now; if that fails, `undo` puts memory back and the fiber dies. */
    const persist = (undo: () => void) =>
      Effect.try({ try: () => writeDurably(dir, encodeDocument({ version: 1, entries: [...entries.values()] })), catch: (cause) => cause }).pipe(
        Effect.tapError(() => Effect.sync(undo)),
        Effect.orDieWith((cause) => new Error(`kiosk journal: cannot write ${join(dir, JOURNAL_FILE)}: ${String(cause)}`))
      )
    const service: KioskJournalService = {
      put: (entry) =>
        Effect.suspend(() => {
          const previous = entries.get(entry.orderId)
          if (previous === undefined && entries.size >= FILE_JOURNAL_ENTRIES_MAX) {
            return Effect.dieMessage(`kiosk journal: more than ${FILE_JOURNAL_ENTRIES_MAX} orders in flight; the kiosk is not reconciling them`)
          }
          entries.set(entry.orderId, entry)
          return persist(() => (previous === undefined ? entries.delete(entry.orderId) : entries.set(entry.orderId, previous)))
        }),
      remove: (orderId) =>
        Effect.suspend(() => {
          const previous = entries.get(orderId)
          if (previous === undefined) return Effect.void
          entries.delete(orderId)
          return persist(() => entries.set(orderId, previous))
        }),
      all: Effect.sync(() => [...entries.values()])
    }
    return service
  })

export const KioskJournalFile = {
  /** The journal in the agent's state directory `dir` (created, 0700, if missing). */
  layer: (dir: string): Layer.Layer<KioskJournal> => Layer.effect(KioskJournal, openKioskJournalFile(dir))
} as const
