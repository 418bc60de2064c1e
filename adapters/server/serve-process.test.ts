import { describe, expect, it } from "@effect/vitest"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { PCGRandom } from "effect/Utils"
import { startServe } from "./serve-process.js"

/**
 * `ecoupon serve` as operators run it, signalled. SIGTERM with requests in flight: every request
 * the server took is answered 2xx, the process exits 0 within two seconds. SIGKILL at random moments
 * under HTTP load on the embedded store, then a restart: every write answered 2xx is there, and the
 * audit is clean.
 */
interface Write {
  readonly id: string
  readonly status: number | "refused" | "broken"
}

const addInstitution = async (baseUrl: string, token: string, id: string): Promise<Write> => {
  try {
    const response = await fetch(`${baseUrl}/v1/ops/institutions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ id, name: `Institution ${id}` })
    })
    await response.text()
    return { id, status: response.status }
  } catch (error) {
    // Refused: the connection never opened (the server had stopped listening). Broken: it opened and died.
    const code = (error as { readonly cause?: { readonly code?: string } }).cause?.code
    return { id, status: code === "ECONNREFUSED" ? "refused" : "broken" }
  }
}

const withDirectory = <A>(use: (directory: string) => Promise<A>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "ecoupon-serve-"))),
    (directory) => Effect.promise(() => use(directory)),
    (directory) => Effect.sync(() => rmSync(directory, { recursive: true, force: true }))
  )

describe("ecoupon serve, signalled", () => {
  it.live("SIGTERM with requests in flight: they complete, and it exits 0 within two seconds", () =>
    withDirectory(async (directory) => {
      const server = await startServe(directory)
      const token = server.token ?? ""
      expect(token).toMatch(/^eo_/)
      let sent = 0
      let settled = 0
      const writes: Array<Promise<Write>> = []
      // A steady stream of writes, 16 at a time; the signal comes once 40 have been answered.
      const load = Promise.all(
        Array.from({ length: 16 }, async () => {
          while (sent < 2_000) {
            const write = addInstitution(server.baseUrl, token, `ins_term_${sent++}`)
            writes.push(write)
            const done = await write
            settled++
            if (done.status === "refused") return
          }
        })
      )
      while (settled < 40) await new Promise((done) => setTimeout(done, 5))
      const signalledAt = performance.now()
      server.child.kill("SIGTERM")
      const exit = await server.exited
      const stoppedMs = performance.now() - signalledAt
      await load
      const results = await Promise.all(writes)
      expect(exit).toEqual({ code: 0, signal: null })
      expect(stoppedMs).toBeLessThan(2_000)
      // Everything the server answered, it answered 200: nothing 5xx, no 503 from the drain. A request
      // a client sends on a keep-alive connection at the moment the drain closes it as idle meets a
      // reset (the race every HTTP/1.1 server has; clients retry such requests): the server never read
      // it, so nothing of it is answered or kept. At most one per client connection.
      expect(results.filter((write) => typeof write.status === "number" && write.status !== 200)).toEqual([])
      expect(results.filter((write) => write.status === "broken").length).toBeLessThanOrEqual(16)
      expect(results.filter((write) => write.status === 200).length).toBeGreaterThan(20)
      // Its log: one JSON object per line, a line per answered request with its id, route, status and duration.
      const logged = server.logLines.map((line) => JSON.parse(line) as Record<string, unknown>)
      expect(logged.every((entry) => typeof entry["time"] === "string" && typeof entry["level"] === "string" && typeof entry["message"] === "string")).toBe(true)
      const answered = logged.filter((entry) => entry["message"] === "answered" && entry["route"] === "operators.addInstitution" && entry["status"] === 200)
      expect(answered.length).toBe(results.filter((write) => write.status === 200).length)
      expect(answered.every((entry) => entry["level"] === "info" && /^[0-9a-f-]{36}$/.test(String(entry["requestId"])) && typeof entry["durationMs"] === "number")).toBe(true)
      // And what it answered is there after a restart.
      const again = await startServe(directory)
      try {
        const adminToken = token
        const listed = (await (await fetch(`${again.baseUrl}/v1/ops/institutions`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as Array<{ readonly id: string }>
        const stored = new Set(listed.map((institution) => institution.id))
        expect(results.filter((write) => write.status === 200 && !stored.has(write.id))).toEqual([])
      } finally {
        again.child.kill("SIGTERM")
        await again.exited
      }
    }), 120_000)

  it.live("SIGKILL at random moments under load, restart: every write answered 2xx is there, the audit is clean", () =>
    withDirectory(async (directory) => {
      const random = new PCGRandom(20261205)
      const KILLS = 3
      let token: string | undefined
      const answered: Array<string> = []
      for (let kill = 0; kill < KILLS; kill++) {
        const server = await startServe(directory)
        token ??= server.token
        const admin = token ?? ""
        let stop = false
        const clients = Array.from({ length: 8 }, async (_, client) => {
          for (let n = 0; !stop; n++) {
            const write = await addInstitution(server.baseUrl, admin, `ins_k${kill}_c${client}_${n}`)
            if (write.status === 200) answered.push(write.id)
            if (write.status === "refused" || write.status === "broken") return
          }
        })
        // Kill once this round has had writes answered (a loaded machine answers late), then at a
        // random moment within the next second, with writes in flight.
        const before = answered.length
        for (let waited = 0; answered.length < before + 3 && waited < 30_000; waited += 20) {
          await new Promise((done) => setTimeout(done, 20))
        }
        await new Promise((done) => setTimeout(done, random.integer(1000)))
        server.child.kill("SIGKILL")
        await server.exited
        stop = true
        await Promise.all(clients)
      }
      const server = await startServe(directory)
      try {
        const headers = { authorization: `Bearer ${token ?? ""}` }
        const listed = (await (await fetch(`${server.baseUrl}/v1/ops/institutions`, { headers })).json()) as Array<{ readonly id: string }>
        const stored = new Set(listed.map((institution) => institution.id))
        expect(answered.length).toBeGreaterThanOrEqual(KILLS * 3)
        expect(answered.filter((id) => !stored.has(id))).toEqual([])
        const audit = (await (await fetch(`${server.baseUrl}/v1/ops/audit`, { headers })).json()) as { readonly ok: boolean }
        expect(audit.ok).toBe(true)
      } finally {
        server.child.kill("SIGTERM")
        await server.exited
      }
    }), 180_000)
})
