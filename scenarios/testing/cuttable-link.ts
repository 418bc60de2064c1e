import { connect, createServer, type Socket } from "node:net"

/**
 * The network between a kiosk and its server, as a test can cut it: a TCP relay on 127.0.0.1 (a
 * port the OS picks) to `targetPort`. `cut` resets every connection through it and every new one
 * until `restore`, as a pulled cable or a dead uplink would; the server itself keeps running, so
 * operators (who reach it directly) go on working while the kiosk cannot.
 */
export interface CuttableLink {
  readonly baseUrl: string
  readonly cut: () => void
  readonly restore: () => void
  readonly close: () => Promise<void>
}

export const openCuttableLink = (targetPort: number): Promise<CuttableLink> =>
  new Promise((resolve, reject) => {
    const open = new Set<Socket>()
    let up = true
    const track = (socket: Socket) => {
      open.add(socket)
      socket.once("close", () => open.delete(socket))
      // A reset is what the other side of a cut link sees; nothing to report here.
      socket.on("error", () => undefined)
    }
    const server = createServer((client) => {
      track(client)
      if (!up) return void client.resetAndDestroy()
      const upstream = connect(targetPort, "127.0.0.1")
      track(upstream)
      client.pipe(upstream)
      upstream.pipe(client)
      client.once("close", () => upstream.destroy())
      upstream.once("close", () => client.destroy())
    })
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      if (address === null || typeof address === "string") return reject(new Error("the link got no TCP port"))
      resolve({
        baseUrl: `http://127.0.0.1:${address.port}`,
        cut: () => {
          up = false
          for (const socket of open) socket.resetAndDestroy()
        },
        restore: () => void (up = true),
        close: () =>
          new Promise((closed) => {
            for (const socket of open) socket.destroy()
            server.close(() => closed())
          })
      })
    })
  })
