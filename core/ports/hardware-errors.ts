import { Schema } from "effect"

/**
 * Hardware errors are data (DESIGN §3). Every message says what happened and what to do, because the
 * person reading it is a kiosk operator or a bench engineer standing next to the machine.
 */

export class Jam extends Schema.TaggedError<Jam>()("Jam", { device: Schema.String, detail: Schema.String }) {
  override get message() {
    return `${this.device}: card or paper jam (${this.detail}); open the unit, clear the path and re-initialise it`
  }
}

export class StackerEmpty extends Schema.TaggedError<StackerEmpty>()("StackerEmpty", {}) {
  override get message() {
    return "card stacker is empty; load blank cards and record the restock"
  }
}

export class BinFull extends Schema.TaggedError<BinFull>()("BinFull", {}) {
  override get message() {
    return "capture bin is full; empty it and record the count"
  }
}

export class SensorFault extends Schema.TaggedError<SensorFault>()("SensorFault", {
  device: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `${this.device}: sensor failure (${this.detail}); clean the sensors and re-initialise; call service if it persists`
  }
}

export class NotInitialised extends Schema.TaggedError<NotInitialised>()("NotInitialised", { device: Schema.String }) {
  override get message() {
    return `${this.device} is not initialised; send Init (the kiosk does this at start-up) and retry`
  }
}

export class CardNotTaken extends Schema.TaggedError<CardNotTaken>()("CardNotTaken", { waitedMs: Schema.Number }) {
  override get message() {
    return `the card was not taken from the gate within ${this.waitedMs} ms; it will be captured`
  }
}

export class PaperOut extends Schema.TaggedError<PaperOut>()("PaperOut", {}) {
  override get message() {
    return "printer is out of paper; load a new roll"
  }
}

export class CoverOpen extends Schema.TaggedError<CoverOpen>()("CoverOpen", {}) {
  override get message() {
    return "printer cover is open; close it"
  }
}

/** The cutter or another mechanism failed; the printer must be checked before it prints again. */
export class PrinterFault extends Schema.TaggedError<PrinterFault>()("PrinterFault", {
  kind: Schema.Literal("cutter", "unrecoverable"),
  detail: Schema.String
}) {
  override get message() {
    return `printer ${this.kind} error (${this.detail}); clear it and power-cycle the printer`
  }
}

export class Offline extends Schema.TaggedError<Offline>()("Offline", { device: Schema.String, detail: Schema.String }) {
  override get message() {
    return `${this.device} is offline or not answering (${this.detail}); check power and cable`
  }
}

export class LinkTimeout extends Schema.TaggedError<LinkTimeout>()("LinkTimeout", {
  device: Schema.String,
  waitedMs: Schema.Number,
  waitingFor: Schema.String
}) {
  override get message() {
    return `${this.device}: no ${this.waitingFor} within ${this.waitedMs} ms; check the cable, port and line settings`
  }
}

export class LinkNak extends Schema.TaggedError<LinkNak>()("LinkNak", { device: Schema.String, attempts: Schema.Number }) {
  override get message() {
    return `${this.device} refused the frame ${this.attempts} times (NAK); check line settings and noise on the cable`
  }
}

/** RF card errors: no card in the field, wrong key, transmission failure, bad block address. */
export class RfFailure extends Schema.TaggedError<RfFailure>()("RfFailure", {
  reason: Schema.Literal("no-card", "auth", "transmission", "address", "length"),
  detail: Schema.String
}) {
  override get message() {
    return `RF card operation failed (${this.reason}: ${this.detail}); the card may be faulty: capture it and use another`
  }
}

/** A device refused a command for a reason the other errors do not name (vendor code and meaning). */
export class DeviceRefused extends Schema.TaggedError<DeviceRefused>()("DeviceRefused", {
  device: Schema.String,
  code: Schema.String,
  meaning: Schema.String
}) {
  override get message() {
    return `${this.device} refused the command: ${this.code} ${this.meaning}; re-initialise the unit and retry`
  }
}
