import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, type Scope } from "effect"

/**
 * A small HTTP server on 127.0.0.1 (a port the OS picks) standing in for an outside vendor in the
 * gateway tests. It records every request it received and answers with what the test's `answer`
 * says: a status and body, a stall (no answer until the server closes), or a reset connection.
 */

export interface ReceivedRequest {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

export type VendorAnswer =
  | { readonly status: number; readonly body: string | object; readonly headers?: Readonly<Record<string, string>> }
  | { readonly stall: true }
  | { readonly reset: true }

export interface FakeVendor {
  readonly url: string
  readonly received: ReadonlyArray<ReceivedRequest>
}

const respond = (response: ServerResponse, answer: VendorAnswer) => {
  if ("stall" in answer) return
  if ("reset" in answer) {
    response.socket?.destroy()
    return
  }
  const text = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body)
  response.writeHead(answer.status, { "content-type": typeof answer.body === "string" ? "text/plain" : "application/json", ...answer.headers })
  response.end(text)
}

export const fakeVendor = (answer: (request: ReceivedRequest) => VendorAnswer): Effect.Effect<FakeVendor, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ readonly vendor: FakeVendor; readonly close: () => Promise<void> }>((resume) => {
      const received: Array<ReceivedRequest> = []
      const server = createServer((request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", () => {
          const got: ReceivedRequest = { method: request.method ?? "", path: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks).toString("utf8") }
          received.push(got)
          respond(response, answer(got))
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        const close = () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
        resume(Effect.succeed({ vendor: { url: `http://127.0.0.1:${port}`, received }, close }))
      })
    }),
    ({ close }) => Effect.promise(close)
  ).pipe(Effect.map(({ vendor }) => vendor))

/** A URL on 127.0.0.1 where nothing listens: a port the OS gave out and took back. */
export const closedPortUrl: Effect.Effect<string> = Effect.async((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo
    server.close(() => resume(Effect.succeed(`http://127.0.0.1:${port}`)))
  })
})
