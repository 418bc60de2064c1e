import { SerialPortMock } from "serialport"
import type { PortBinding, PortHandle, PortOpenOptions } from "./serial-port.js"

/**
 * Two in-process ports wired back to back on `@serialport/binding-mock`: what one side writes, the
 * other reads. Lets a driver talk to an emulator with no pty and no native code, for fast tests.
 * The mock binding keeps its ports in one process-wide table, so every pair gets unique paths.
 */

export interface MockPair {
  readonly binding: PortBinding
  readonly pathA: string
  readonly pathB: string
}

// serialport re-exports `@serialport/binding-mock` as the binding of `SerialPortMock`.
const MockBinding = SerialPortMock.binding
type MockPortBinding = Awaited<ReturnType<typeof MockBinding.open>>

let pairs = 0

export const makeMockPair = (name = "pair"): MockPair => {
  pairs += 1
  const pathA = `/dev/mock-${name}-${pairs}-a`
  const pathB = `/dev/mock-${name}-${pairs}-b`
  MockBinding.createPort(pathA)
  MockBinding.createPort(pathB)
  const open = new Map<string, MockPortBinding>()
  const peerOf = (path: string) => (path === pathA ? pathB : pathA)

  const binding: PortBinding = {
    async open(options: PortOpenOptions): Promise<PortHandle> {
      if (options.path !== pathA && options.path !== pathB) throw new Error(`${options.path} is not part of this mock pair`)
      const port = await MockBinding.open({ ...options })
      open.set(options.path, port)
      const write = port.write.bind(port)
      const close = port.close.bind(port)
      // The mock binding only records writes; here they are delivered to the other end as well.
      port.write = async (buffer: Buffer) => {
        await write(buffer)
        const peer = open.get(peerOf(options.path))
        if (peer?.isOpen === true) peer.emitData(Buffer.from(buffer))
      }
      port.close = async () => {
        open.delete(options.path)
        await close()
      }
      return port
    }
  }
  return { binding, pathA, pathB }
}
