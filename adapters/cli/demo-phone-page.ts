import { createServer } from "node:http"
import { Effect, Runtime, Schema, type Scope } from "effect"
import { PhoneNumber } from "../../core/domain/ids.js"
import type { SimSmsControlService, SmsRecord } from "../../sim/sms.js"
import { phoneHintOf, toE164 } from "../kiosk-agent/journey-view.js"

/**
 * The demo's phone: a page where the text messages the demo SMS gateway "delivered" can be read, so
 * a person at a kiosk's touchscreen can type their number there and read the code here.
 * - `GET /?number=010…`: that phone's inbox, newest first (refreshes itself every 2 s);
 * - `GET /` alone: a form for the number and the latest deliveries to any phone, the numbers masked
 *   but for their last four digits;
 * - `GET /api/messages?number=010…`: the inbox as JSON.
 * On 127.0.0.1 only. Numbers are shown on the page, never logged.
 */

export const PHONE_PAGE_RECENT_MAX = 15
const COUNTRY_CODE = "82"

const decodePhone = Schema.decodeUnknownOption(PhoneNumber)

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const timeOf = (ms: number) => new Date(ms).toISOString().slice(11, 19)

const page = (number: string, inbox: ReadonlyArray<SmsRecord> | undefined, recent: ReadonlyArray<SmsRecord>) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo phone${number === "" ? "" : ` ${escapeHtml(phoneHintOf(number))}`}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:26rem;margin:1rem auto;padding:0 1rem;background:#f4f4f6;color:#222}
h1{font-size:1.3rem}form{display:flex;gap:.5rem}input{flex:1;font-size:1.1rem;padding:.4rem}button{font-size:1.1rem}
.sms{background:#fff;border-radius:1rem;padding:.6rem .9rem;margin:.5rem 0;box-shadow:0 1px 2px #0002}
.sms small{color:#777;display:block}.code{font-size:1.4rem;font-weight:700;letter-spacing:.1em}
.none{color:#777}
</style></head><body>
<h1>Demo phone</h1>
<p>Text messages the demo SMS gateway delivered. Type the number you entered on the kiosk.</p>
<form method="get"><input name="number" inputmode="tel" placeholder="010-1234-5678" value="${escapeHtml(number)}"><button>Open</button></form>
${
  inbox === undefined
    ? ""
    : `<section class="inbox"><h2>Inbox of ${escapeHtml(number)}</h2>${
      inbox.length === 0 ? `<p class="none">No messages yet. Enter this number on the kiosk's touchscreen; the code arrives here within seconds.</p>` : inbox.map((r) => message(r)).join("")
    }</section>`
}
<h2>Latest deliveries</h2>
${recent.length === 0 ? `<p class="none">None yet.</p>` : recent.map((r) => message(r, true)).join("")}
</body></html>`

const message = (record: SmsRecord, masked = false) => {
  const text = escapeHtml(record.text).replace(/\b(\d{6})\b/, `<span class="code">$1</span>`)
  const to = masked ? ` to ${escapeHtml(phoneHintOf(record.to))}` : ""
  return `<div class="sms"><small>${timeOf(record.deliverAtMs ?? record.sentAtMs)}${to}</small>${text}</div>`
}

/** Digits (and a leading +) of what was typed, as E.164 the way the kiosk reads it. */
export const phoneOf = (typed: string): PhoneNumber | undefined => {
  const digits = typed.trim().replace(/(?!^\+)[^0-9]/g, "")
  if (!/^\+?[0-9]{6,15}$/.test(digits)) return undefined
  const decoded = decodePhone(toE164(digits, COUNTRY_CODE))
  return decoded._tag === "Some" ? decoded.value : undefined
}

/** Serves the phone page until the scope closes; answers its URL. */
export const servePhonePage = (sms: SimSmsControlService, host: string, port: number): Effect.Effect<string, Error, Scope.Scope> =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<never>()
    const run = Runtime.runSync(runtime)
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://phone")
      if (request.method !== "GET" || (url.pathname !== "/" && url.pathname !== "/api/messages")) {
        response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not here: open / for the phone\n")
        return
      }
      const number = (url.searchParams.get("number") ?? "").slice(0, 40)
      const phone = number === "" ? undefined : phoneOf(number)
      const inbox = phone === undefined ? undefined : [...run(sms.inbox(phone))].reverse()
      if (url.pathname === "/api/messages") {
        if (phone === undefined) {
          response.writeHead(400, { "content-type": "application/problem+json" }).end(JSON.stringify({ status: 400, detail: "give ?number= as typed on the kiosk, e.g. 01012345678" }))
          return
        }
        response.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify({ messages: (inbox ?? []).map((r) => ({ text: r.text, deliveredAtMs: r.deliverAtMs })) }))
        return
      }
      const nowMs = Date.now()
      const recent = run(sms.sent)
        .filter((r) => r.deliverAtMs !== undefined && r.deliverAtMs <= nowMs)
        .slice(-PHONE_PAGE_RECENT_MAX)
        .reverse()
      response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(page(number, inbox, recent))
    })
    yield* Effect.acquireRelease(
      Effect.async<void, Error>((resume) => {
        server.once("error", (error) => resume(Effect.fail(new Error(`the phone page cannot listen on ${host}:${port}: ${error.message}`))))
        server.listen(port, host, () => resume(Effect.void))
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        })
    )
    const address = server.address()
    const bound = typeof address === "object" && address !== null ? address.port : port
    return `http://${host}:${bound}/`
  })
