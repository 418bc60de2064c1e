import { readdir } from "node:fs/promises"
import { SerialPort } from "serialport"

/**
 * `ecoupon hil ports`: the serial ports the system knows. On Linux serialport asks udev; where there
 * is no udev (containers, minimal images) that fails, and we say so plainly and fall back to the
 * device nodes under /dev whose names look like serial ports, which may or may not have hardware.
 */

export interface PortEntry {
  readonly path: string
  readonly description: string
}

export type PortListing =
  | { readonly _tag: "Enumerated"; readonly ports: ReadonlyArray<PortEntry> }
  | { readonly _tag: "Unavailable"; readonly reason: string; readonly deviceNodes: ReadonlyArray<string> }

const SERIAL_NODE = /^tty(S|USB|ACM|AMA|XRUSB|WCH|MFD|O)[0-9]+$|^rfcomm[0-9]+$/

const deviceNodes = async (): Promise<ReadonlyArray<string>> => {
  const names = await readdir("/dev").catch(() => [] as Array<string>)
  const nodes = names.filter((n) => SERIAL_NODE.test(n)).map((n) => `/dev/${n}`)
  const byId = await readdir("/dev/serial/by-id").catch(() => [] as Array<string>)
  return [...byId.map((n) => `/dev/serial/by-id/${n}`), ...nodes].sort((a, b) => a.localeCompare(b, "en", { numeric: true }))
}

export const listPorts = async (): Promise<PortListing> => {
  try {
    const ports = await SerialPort.list()
    return {
      _tag: "Enumerated",
      ports: ports.map((p) => ({
        path: p.path,
        description: [p.manufacturer, p.vendorId && p.productId ? `${p.vendorId}:${p.productId}` : undefined, p.serialNumber && `serial ${p.serialNumber}`]
          .filter((x): x is string => typeof x === "string" && x.length > 0)
          .join(", ")
      }))
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const reason = /udevadm/.test(message)
      ? "this system has no udev (usual in containers), so serial ports cannot be enumerated"
      : `the system could not enumerate serial ports (${message})`
    return { _tag: "Unavailable", reason, deviceNodes: await deviceNodes() }
  }
}
