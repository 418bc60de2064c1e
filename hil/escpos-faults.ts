/** The faults the ESC/POS emulator can stage, and the `--faults` syntax of `ecoupon emulate escpos`. */

export const printerFaultKinds = {
  "cover-open": "the cover is open (offline, cover-open bit)",
  offline: "the printer is offline with no other cause",
  "paper-out": "the roll is empty",
  "near-end": "the roll is down to its near-end mark",
  cutter: "the next cut fails with an autocutter error",
  unrecoverable: "an unrecoverable error is latched",
  silent: "the printer answers nothing: powered off or unplugged"
} as const

export type PrinterFaultKind = keyof typeof printerFaultKinds

export const parsePrinterFaults = (spec: string): { readonly faults: ReadonlyArray<PrinterFaultKind> } | { readonly error: string } => {
  const faults: Array<PrinterFaultKind> = []
  for (const item of spec.split(",").map((s) => s.trim()).filter((s) => s.length > 0)) {
    if (!Object.hasOwn(printerFaultKinds, item)) return { error: `unknown printer fault "${item}"; known: ${Object.keys(printerFaultKinds).join(", ")}` }
    faults.push(item as PrinterFaultKind)
  }
  return { faults }
}
