import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

/**
 * The outside services `ecoupon serve --gateways http` talks to during the serve benchmark, one small
 * HTTP server on 127.0.0.1 answering as the vendors' wire contracts say (adapters/gateways/README.md):
 * the SMS gateway under /sms (it keeps the newest one-time code per phone, for the benchmark's
 * customers to type in), the carrier under /carrier, and the merchant's provider server under
 * /provider (order submissions acknowledged, an empty catalog).
 */
export interface BenchVendor {
  readonly url: string
  /** The newest one-time code sent to `phone`, once it has arrived. */
  readonly codeFor: (phone: string, timeoutMs: number) => Promise<string>
  readonly received: () => { readonly sms: number; readonly providerOrders: number }
  readonly close: () => Promise<void>
}

export const startVendor = (): Promise<BenchVendor> =>
  new Promise((resolve) => {
    const codes = new Map<string, string>()
    let sms = 0
    let providerOrders = 0
    let charges = 0
    const server = createServer((request, response) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => {
        const path = (request.url ?? "").split("?")[0] ?? ""
        const answer = (status: number, body: object) => {
          response.writeHead(status, { "content-type": "application/json" })
          response.end(JSON.stringify(body))
        }
        if (request.method === "POST" && path === "/sms/messages") {
          const message = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { readonly to: string; readonly text: string }
          const code = /code (\d+)/.exec(message.text)?.[1]
          if (code !== undefined) codes.set(message.to, code)
          sms++
          return answer(200, { messageRef: `sms_${sms}` })
        }
        if (request.method === "POST" && path.startsWith("/carrier/charges")) return answer(200, { authorisation: `auth_${++charges}` })
        if (request.method === "POST" && path === "/provider/orders") {
          providerOrders++
          return answer(200, { acknowledgement: `ack_${request.headers["idempotency-key"] ?? providerOrders}` })
        }
        if (request.method === "GET" && path === "/provider/catalog") return answer(200, { offers: [] })
        return answer(404, { error: `no ${request.method} ${path} here` })
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        codeFor: async (phone, timeoutMs) => {
          const deadline = performance.now() + timeoutMs
          for (;;) {
            const code = codes.get(phone)
            if (code !== undefined) {
              codes.delete(phone)
              return code
            }
            if (performance.now() > deadline) throw new Error(`no one-time code reached ${phone.slice(0, 4)}… within ${timeoutMs} ms: is the server's outbox worker sending?`)
            await new Promise((done) => setTimeout(done, 20))
          }
        },
        received: () => ({ sms, providerOrders }),
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })
