// The kiosk's touchscreen: renders the view the agent pushes (GET /api/view, server-sent events) and
// posts the customer's choices (POST /api/action). The language and the digits being typed are the
// only things the page keeps; the language goes back to Korean whenever the journey starts over.
import { h, render } from "preact"
import { useEffect, useRef, useState } from "preact/hooks"
import htm from "htm"
import { Screen } from "./screens.js"
import { noticeText, texts } from "./texts.js"

const html = htm.bind(h)

const post = (path, body) =>
  fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) }).catch(() => undefined)

const send = (action) => post("/api/action", action)

// A keypad digit changes nothing the agent holds, but it is a touch: tell the agent (at most every
// few seconds) so the session does not idle out under a customer who is typing.
let lastTouchMs = 0
const touch = () => {
  const nowMs = performance.now()
  if (nowMs - lastTouchMs < 3_000) return
  lastTouchMs = nowMs
  send({ _tag: "touch" })
}

/** The agent's view, live; EventSource reconnects by itself if the agent restarts. */
const useView = () => {
  const [view, setView] = useState(null)
  const [connected, setConnected] = useState(false)
  useEffect(() => {
    const source = new EventSource("/api/view")
    source.onopen = () => setConnected(true)
    source.onmessage = (event) => setView(JSON.parse(event.data))
    source.onerror = () => setConnected(false)
    return () => source.close()
  }, [])
  return [view, connected]
}

const SimHands = ({ t }) =>
  html`<aside class="sim">
    <span>${t.simTitle}</span>
    <button class="btn small" data-id="sim-take" onClick=${() => post("/api/sim/take")}>${t.simTake}</button>
    <button class="btn small" data-id="sim-insert" onClick=${() => post("/api/sim/insert")}>${t.simInsert}</button>
  </aside>`

const App = () => {
  const [view, connected] = useView()
  const [lang, setLang] = useState("ko")
  const previousScreen = useRef("welcome")
  const screen = view?.screen
  useEffect(() => {
    if (screen === "welcome" && previousScreen.current !== "welcome") setLang("ko")
    if (screen !== undefined) previousScreen.current = screen
    document.documentElement.lang = lang
  }, [screen, lang])
  if (view === null) return html`<p class="connecting">연결 중… / Connecting…</p>`
  const t = texts[lang]
  const toggle = () => {
    touch()
    setLang(lang === "ko" ? "en" : "ko")
  }
  return html`<div class="frame" data-screen=${view.screen} data-busy=${view.busy} data-lang=${lang}>
    <header>
      <span class="brand">${t.brand}</span>
      ${view.balancePoints !== null && view.screen !== "welcome" ? html`<span class="balance">${t.balance} <strong data-id="balance">${t.points(view.balancePoints)}</strong></span>` : null}
      <button class="btn lang" data-id="lang" onClick=${toggle}>${t.other}</button>
    </header>
    ${connected ? null : html`<div class="notice warn" role="status">${t.notices.unavailable}</div>`}
    ${view.notice === null ? null : html`<div class="notice" role="alert" data-id="notice">${noticeText(t, view.notice)}</div>`}
    <main><${Screen} key=${view.screen} view=${view} t=${t} send=${send} touch=${touch} /></main>
    ${view.busy ? html`<div class="working" aria-live="polite">${t.working}</div>` : null}
    ${view.simulatedHardware ? html`<${SimHands} t=${t} />` : null}
  </div>`
}

render(html`<${App} />`, document.getElementById("kiosk"))
