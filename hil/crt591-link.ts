import { Clock, Effect, Option } from "effect"
import { LinkNak, LinkTimeout, type Offline } from "../core/ports/hardware-errors.js"
import { ACK, decodeBody, encodeCommand, EOT, NAK, type Reply } from "./crt591-codec.js"
import { Crt591Reader, type Token } from "./crt591-reader.js"
import type { SerialLink } from "./serial-transport.js"

/**
 * The host side of one CRT-591 exchange (protocol page, "Exchange"): send the command, wait for the
 * device's ACK (retransmitting on NAK or silence, a bounded number of times), wait for the reply,
 * NAK a corrupt reply so the device sends it again, ACK a good one. One exchange at a time: the line
 * is half-duplex in practice and replies carry no sequence number.
 *
 * Two field habits are accepted: a reply that arrives without its ACK (the ACK byte was lost) counts
 * as the ACK, and a reply for another command (a late duplicate) is ACKed and ignored.
 */

export interface Crt591LinkOptions {
  /** The unit's DIP-switch address, 0x00-0x0F. */
  readonly address: number
  /** How long the device has to ACK a command (the manual: about 300 ms). */
  readonly ackTimeoutMs: number
  /** Retransmissions after the first send before giving up (3 is usual). */
  readonly retransmitsMax: number
  /** Silence inside a frame longer than this means the frame was cut short. */
  readonly interByteTimeoutMs: number
  /** Corrupt replies NAKed in one exchange before giving up. */
  readonly corruptRepliesMax: number
}

export const defaultLinkOptions: Crt591LinkOptions = {
  address: 0,
  ackTimeoutMs: 300,
  retransmitsMax: 3,
  interByteTimeoutMs: 50,
  corruptRepliesMax: 3
}

export type LinkError = LinkTimeout | LinkNak | Offline

export interface LinkStats {
  exchanges: number
  retransmits: number
  naksSent: number
  repliesWithoutAck: number
  strayFrames: number
}

export interface Crt591Link {
  readonly device: string
  readonly options: Crt591LinkOptions
  /** One command and its reply. `replyTimeoutMs` covers the mechanical time of the command. */
  readonly exchange: (cm: number, pm: number, data: Uint8Array, replyTimeoutMs: number) => Effect.Effect<Reply, LinkError>
  /** Raw access for the conformance suite's line checks; never use it while an exchange is running. */
  readonly raw: {
    readonly write: (bytes: Uint8Array) => Effect.Effect<void, Offline>
    /** The next token within `timeoutMs`, or `None`. */
    readonly nextToken: (timeoutMs: number) => Effect.Effect<Option.Option<Token>, Offline>
    readonly discard: Effect.Effect<void>
  }
  readonly stats: () => Readonly<LinkStats>
}

const ACK_BYTES = Uint8Array.of(ACK)
const NAK_BYTES = Uint8Array.of(NAK)
const EOT_BYTES = Uint8Array.of(EOT)

export const makeCrt591Link = (
  link: SerialLink,
  device: string,
  options: Crt591LinkOptions = defaultLinkOptions
): Effect.Effect<Crt591Link> =>
  Effect.gen(function* () {
    const lock = yield* Effect.makeSemaphore(1)
    const reader = new Crt591Reader()
    const stats: LinkStats = { exchanges: 0, retransmits: 0, naksSent: 0, repliesWithoutAck: 0, strayFrames: 0 }

    /** The next token before `deadline` (epoch ms); expires a frame cut short by a quiet line. */
    const tokenBefore = (deadline: number): Effect.Effect<Option.Option<Token>, Offline> =>
      Effect.gen(function* () {
        for (;;) {
          const token = reader.next()
          if (token !== undefined) return Option.some(token)
          const left = deadline - (yield* Clock.currentTimeMillis)
          if (left <= 0) return Option.none()
          const chunk = yield* link.read(reader.pending ? Math.min(left, options.interByteTimeoutMs) : left)
          if (Option.isSome(chunk)) reader.push(chunk.value)
          else if (reader.pending) return Option.fromNullable(reader.expire())
        }
      })

    const discard = Effect.gen(function* () {
      yield* link.discardInput
      reader.clear()
    })

    const exchange = (cm: number, pm: number, data: Uint8Array, replyTimeoutMs: number): Effect.Effect<Reply, LinkError> =>
      Effect.gen(function* () {
        yield* discard
        stats.exchanges += 1
        const frame = encodeCommand({ address: options.address, cm, pm, data })
        const startedAt = yield* Clock.currentTimeMillis
        let sends = 0
        let lastRefusedByNak = false
        let acked = false
        let corruptReplies = 0
        let nakAt: number | undefined
        let deadline = 0

        const send = Effect.gen(function* () {
          if (sends > 0) stats.retransmits += 1
          sends += 1
          yield* link.write(frame)
          deadline = (yield* Clock.currentTimeMillis) + options.ackTimeoutMs
        })
        const waited = Effect.map(Clock.currentTimeMillis, (now) => now - startedAt)

        yield* send
        for (;;) {
          const token = yield* tokenBefore(nakAt === undefined ? deadline : Math.min(deadline, nakAt))
          const now = yield* Clock.currentTimeMillis
          if (Option.isNone(token)) {
            if (nakAt !== undefined && now >= nakAt) {
              // Something frame-like failed its checks and the line has gone quiet: ask for the reply again.
              nakAt = undefined
              corruptReplies += 1
              if (corruptReplies > options.corruptRepliesMax) {
                return yield* new LinkTimeout({ device, waitedMs: yield* waited, waitingFor: `an intact reply (${corruptReplies} corrupt)` })
              }
              stats.naksSent += 1
              yield* link.write(NAK_BYTES)
              if (!acked) deadline = now + options.ackTimeoutMs
              continue
            }
            if (now < deadline) continue
            if (!acked) {
              if (sends <= options.retransmitsMax) {
                yield* send
                continue
              }
              return yield* lastRefusedByNak
                ? new LinkNak({ device, attempts: sends })
                : new LinkTimeout({ device, waitedMs: yield* waited, waitingFor: `ACK after ${sends} sends` })
            }
            // The device took the command but never answered: abandon the exchange so it stops trying.
            yield* link.write(EOT_BYTES)
            return yield* new LinkTimeout({ device, waitedMs: yield* waited, waitingFor: "the reply" })
          }
          const t = token.value
          switch (t._tag) {
            case "Ack":
              if (!acked) {
                acked = true
                deadline = now + replyTimeoutMs
              }
              break
            case "Nak":
              if (!acked) {
                lastRefusedByNak = true
                if (sends <= options.retransmitsMax) yield* send
                else return yield* new LinkNak({ device, attempts: sends })
              }
              break
            case "Eot":
              break
            case "Corrupt":
              nakAt ??= now + options.interByteTimeoutMs
              break
            case "Frame": {
              nakAt = undefined
              const decoded = decodeBody(t.address, t.body)
              if (decoded._tag === "Invalid") {
                nakAt = now + options.interByteTimeoutMs
                break
              }
              // Our own command echoed back (a loopback plug, or a pty with echo on) is not a reply.
              if (decoded._tag !== "Reply") break
              const reply = decoded.reply
              yield* link.post(ACK_BYTES)
              if (reply.address !== options.address || reply.cm !== cm || reply.pm !== pm) {
                stats.strayFrames += 1
                break
              }
              if (!acked) stats.repliesWithoutAck += 1
              return reply
            }
          }
        }
      }).pipe(lock.withPermits(1))

    const nextToken = (timeoutMs: number) => Effect.flatMap(Clock.currentTimeMillis, (now) => tokenBefore(now + timeoutMs))

    return {
      device,
      options,
      exchange,
      raw: { write: link.write, nextToken, discard },
      stats: () => stats
    } satisfies Crt591Link
  })
