import { describe, expect, it } from "vitest"
import { faultKinds, parseFaults } from "./crt591-faults.js"
import { parsePrinterFaults } from "./escpos-faults.js"

describe("emulator --faults syntax", () => {
  it("reads kinds with and without @N, with defaults", () => {
    expect(parseFaults("jam@3, bad-bcc@2,card-left,insert")).toEqual({
      faults: [
        { kind: "jam", at: 3 },
        { kind: "bad-bcc", at: 2 },
        { kind: "card-left", at: 1 },
        { kind: "insert", at: 1000 }
      ]
    })
    expect(parseFaults("")).toEqual({ faults: [] })
    for (const kind of Object.keys(faultKinds)) expect(parseFaults(kind)).toHaveProperty("faults")
  })

  it("refuses unknown kinds and bad numbers, naming what is allowed", () => {
    expect(parseFaults("jam@0")).toEqual({ error: `fault "jam@0": the number after @ must be a positive integer` })
    expect(parseFaults("jam@x")).toHaveProperty("error")
    expect(parseFaults("toast")).toMatchObject({ error: expect.stringContaining("known: jam, sensor") })
    expect(parsePrinterFaults("cover-open,silent")).toEqual({ faults: ["cover-open", "silent"] })
    expect(parsePrinterFaults("smoke")).toMatchObject({ error: expect.stringContaining("cover-open") })
  })
})
