/**
 * The faults the CRT-591 emulator can stage (protocol page, "What the emulator must model"), and the
 * `--faults` syntax of `ecoupon emulate crt591`: a comma-separated list of `kind` or `kind@N`.
 */

export const faultKinds = {
  jam: "the Nth move jams (E10); moves keep failing until Init",
  sensor: "the Nth command answers sensor failure (E12)",
  "stacker-empty": "the stacker starts empty (A0 on dispense)",
  "bin-full": "the capture bin starts full (A1 on capture)",
  nak: "the Nth command is NAKed as if its BCC were bad; the host must retransmit",
  "no-ack": "the Nth command is lost on the wire: no ACK, not executed",
  "no-reply": "the Nth command is ACKed and executed but never answered",
  "bad-bcc": "the reply to the Nth command goes out with a bad BCC; resent good on NAK",
  "drop-byte": "the reply to the Nth command loses a byte on the wire",
  "corrupt-byte": "the reply to the Nth command has a byte corrupted on the wire",
  "card-left": "the user never takes a card presented at the gate",
  insert: "a user inserts a card at the gate N ms after start (needs front entry enabled)"
} as const

export type FaultKind = keyof typeof faultKinds

export interface Fault {
  readonly kind: FaultKind
  /** The Nth command or move (1-based), or milliseconds for `insert`. */
  readonly at: number
}

const isKind = (text: string): text is FaultKind => Object.hasOwn(faultKinds, text)

const defaultAt = (kind: FaultKind) => (kind === "insert" ? 1000 : 1)

/** Parses `jam@3,bad-bcc@2,card-left`; the error names the bad item and lists the kinds. */
export const parseFaults = (spec: string): { readonly faults: ReadonlyArray<Fault> } | { readonly error: string } => {
  const faults: Array<Fault> = []
  for (const item of spec.split(",").map((s) => s.trim()).filter((s) => s.length > 0)) {
    const [name = "", atText] = item.split("@")
    if (!isKind(name)) {
      return { error: `unknown fault "${name}"; known: ${Object.keys(faultKinds).join(", ")}` }
    }
    const at = atText === undefined ? defaultAt(name) : Number(atText)
    if (!Number.isInteger(at) || at < 1 || at > 10_000_000) {
      return { error: `fault "${item}": the number after @ must be a positive integer` }
    }
    faults.push({ kind: name, at })
  }
  return { faults }
}

export const faultsOfKind = (faults: ReadonlyArray<Fault>, kind: FaultKind): ReadonlyArray<Fault> => faults.filter((f) => f.kind === kind)

export const describeFaults = (): string =>
  Object.entries(faultKinds)
    .map(([kind, meaning]) => `  ${kind.padEnd(14)} ${meaning}`)
    .join("\n")

/** The faults that damage a reply on its way to the host, in the order they are tried. */
export const wireFaultKinds = ["bad-bcc", "drop-byte", "corrupt-byte"] as const

/** The reply frame as the host receives it after `kind` happened on the wire, and what happened. */
export const damageReply = (kind: (typeof wireFaultKinds)[number], frame: Uint8Array): { readonly frame: Uint8Array; readonly what: string } => {
  const at = Math.floor(frame.length / 2)
  const out = frame.slice()
  switch (kind) {
    case "bad-bcc":
      out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 0xff
      return { frame: out, what: "sent with a bad BCC" }
    case "drop-byte":
      return { frame: Uint8Array.of(...frame.subarray(0, at), ...frame.subarray(at + 1)), what: `lost byte ${at} on the wire` }
    case "corrupt-byte":
      out[at] = (out[at] ?? 0) ^ 0x5a
      return { frame: out, what: `byte ${at} corrupted on the wire` }
  }
}
