// The fleet dashboard: logs in with an operator token, follows the fleet overview's event stream and
// offers the operators' actions (enable or disable a kiosk, retry a dead letter). See
// adapters/server/dashboard-http.ts for why the token lives in sessionStorage and goes in a header.
import { h, render } from "preact"
import { useCallback, useEffect, useState } from "preact/hooks"
import htm from "htm"
import { Dashboard, Login } from "./views.js"

const html = htm.bind(h)
const TOKEN_KEY = "ecoupon.operatorToken"
const RECONNECT_MS_MIN = 1000
const RECONNECT_MS_MAX = 30000

/** A refusal as the server words it (RFC 9457 problem documents say what to do in `detail`). */
const problemOf = async (response) => {
  try {
    const body = await response.json()
    return body.detail ?? body.title ?? `HTTP ${response.status}`
  } catch {
    return `HTTP ${response.status}`
  }
}

const api = (token) => async (method, path, body) => {
  const response = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  if (!response.ok) throw Object.assign(new Error(await problemOf(response)), { status: response.status })
  return response.json()
}

/** Reads a server-sent event stream through fetch (EventSource cannot send the token). */
const follow = (token, onOverview, onState) => {
  let stopped = false
  let controller = new AbortController()
  let delay = RECONNECT_MS_MIN
  const run = async () => {
    while (!stopped) {
      try {
        controller = new AbortController()
        const response = await fetch("/v1/ops/fleet/events", { headers: { authorization: `Bearer ${token}` }, signal: controller.signal })
        if (response.status === 401 || response.status === 403) return onState("refused", await problemOf(response))
        if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status}`)
        onState("live")
        delay = RECONNECT_MS_MIN
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
        let buffer = ""
        for (;;) {
          const { value, done } = await reader.read()
          if (done) break
          buffer += value
          let end
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const data = block.split("\n").filter((line) => line.startsWith("data: ")).map((line) => line.slice(6)).join("\n")
            if (block.includes("event: overview") && data !== "") onOverview(JSON.parse(data))
          }
        }
      } catch (error) {
        if (stopped) return
      }
      onState("reconnecting")
      await new Promise((resolve) => setTimeout(resolve, delay))
      delay = Math.min(delay * 2, RECONNECT_MS_MAX)
    }
  }
  run()
  return () => {
    stopped = true
    controller.abort()
  }
}

const App = () => {
  const [token, setToken] = useState(() => sessionStorage.getItem(TOKEN_KEY))
  const [overview, setOverview] = useState(null)
  const [deadLetters, setDeadLetters] = useState([])
  const [link, setLink] = useState({ state: "connecting" })
  const [notice, setNotice] = useState(null)

  const logout = useCallback((reason) => {
    sessionStorage.removeItem(TOKEN_KEY)
    setToken(null)
    setOverview(null)
    setNotice(reason ?? null)
  }, [])

  useEffect(() => {
    if (token === null) return undefined
    return follow(token, setOverview, (state, detail) => (state === "refused" ? logout(detail) : setLink({ state })))
  }, [token])

  const deadCount = overview?.outbox.dead ?? 0
  useEffect(() => {
    if (token === null || overview === null) return
    if (deadCount === 0) return setDeadLetters([])
    api(token)("GET", "/v1/ops/outbox/dead").then(setDeadLetters, (error) => setNotice(error.message))
  }, [token, deadCount])

  const act = async (method, path, body, done) => {
    try {
      await api(token)(method, path, body)
      setNotice(done)
      setOverview(await api(token)("GET", "/v1/ops/fleet"))
      if (path.startsWith("/v1/ops/outbox")) setDeadLetters(await api(token)("GET", "/v1/ops/outbox/dead"))
    } catch (error) {
      if (error.status === 401) return logout(error.message)
      setNotice(error.status === 403 ? `Not allowed: ${error.message}` : error.message)
    }
  }

  if (token === null) {
    const login = async (candidate) => {
      await api(candidate)("GET", "/v1/ops/fleet")
      sessionStorage.setItem(TOKEN_KEY, candidate)
      setNotice(null)
      setToken(candidate)
    }
    return html`<${Login} onLogin=${login} notice=${notice} />`
  }
  return html`<${Dashboard}
    overview=${overview}
    deadLetters=${deadLetters}
    link=${link.state}
    notice=${notice}
    onLogout=${() => logout(null)}
    onEnable=${(kiosk, enabled) => act("PATCH", `/v1/ops/kiosks/${kiosk.kioskId}/desired`, { enabled }, `${kiosk.name} ${enabled ? "enabled" : "disabled"}`)}
    onRetry=${(letter) => act("POST", `/v1/ops/outbox/${letter.id}/retry`, undefined, `${letter.kind} queued again`)}
  />`
}

render(html`<${App} />`, document.getElementById("app"))
