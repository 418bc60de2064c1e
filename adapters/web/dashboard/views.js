// The dashboard's screens: pure functions of the overview (see app.js for state and actions).
import { h } from "preact"
import { useState } from "preact/hooks"
import htm from "htm"

const html = htm.bind(h)
const number = new Intl.NumberFormat("en-US")
const points = (value) => `${number.format(value)} pt`

const ago = (nowMs, thenMs) => {
  if (thenMs === null) return "never"
  const seconds = Math.max(0, Math.round((nowMs - thenMs) / 1000))
  if (seconds < 90) return `${seconds} s ago`
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h ago`
  return `${Math.round(seconds / 86400)} days ago`
}

export const Login = ({ onLogin, notice }) => {
  const [token, setToken] = useState("")
  const [error, setError] = useState(notice)
  const [busy, setBusy] = useState(false)
  const submit = async (event) => {
    event.preventDefault()
    setBusy(true)
    try {
      await onLogin(token.trim())
    } catch (failure) {
      setError(failure.message)
      setBusy(false)
    }
  }
  return html`<form class="login" onSubmit=${submit}>
    <h1>ecoupon fleet</h1>
    <p class="muted">Sign in with an operator token (<code>ecoupon admin token create --role operator</code>, or the bootstrap token <code>ecoupon serve</code> printed on its first start).</p>
    <label for="token">Operator token</label>
    <input id="token" name="token" type="password" autocomplete="off" value=${token} onInput=${(e) => setToken(e.target.value)} placeholder="eo_…" />
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <button class="primary" type="submit" disabled=${busy || token.trim() === ""}>Sign in</button>
  </form>`
}

const Tile = ({ label, value, sub }) => html`<div class="tile"><div class="label">${label}</div><div class="value">${value}</div>${sub && html`<div class="sub">${sub}</div>`}</div>`

const statusOf = (kiosk) => (kiosk.twin.reported === null ? "unknown" : kiosk.twin.reported.deviceStatus)

const Tiles = ({ overview }) => {
  const statuses = overview.kiosks.map(statusOf)
  const count = (status) => statuses.filter((s) => s === status).length
  const { today, outbox } = overview
  return html`<div class="tiles">
    <${Tile} label="Kiosks" value=${overview.kiosks.length} sub=${`${count("ok")} ok · ${count("degraded")} degraded · ${count("fault")} fault · ${count("unknown")} silent`} />
    <${Tile} label="Orders today" value=${number.format(today.ordersPlaced)} sub=${`${today.ordersDelivered} delivered · ${today.ordersAborted} aborted`} />
    <${Tile} label="Coupons today" value=${number.format(today.couponsIssued)} sub=${points(today.couponPoints)} />
    <${Tile} label="Redemptions today" value=${number.format(today.redemptions)} sub=${points(today.redeemedPoints)} />
    <${Tile} label="Outbox" value=${number.format(outbox.pending)} sub=${html`waiting · <b class=${outbox.dead > 0 ? "error" : ""}>${outbox.dead} dead</b>`} />
  </div>`
}

const Alerts = ({ alerts }) => html`<section>
  <h2>Alerts (${alerts.length})</h2>
  ${alerts.length === 0
    ? html`<p class="muted">Nothing needs an operator.</p>`
    : html`<ul class="alerts">${alerts.map((a) => html`<li><span class=${`badge ${a.severity}`}>${a.severity}</span> ${a.detail}</li>`)}</ul>`}
</section>`

/** A kiosk that never reported differs in every field; that says nothing an operator can act on. */
const deltasOf = (kiosk) => (kiosk.twin.reported === null ? [] : kiosk.twin.delta)
const deltaOf = (kiosk, field) => deltasOf(kiosk).find((d) => d.field === field)

const Cell = ({ kiosk, field, children, className }) => {
  const delta = deltaOf(kiosk, field)
  return delta === undefined
    ? html`<td class=${className ?? ""}>${children}</td>`
    : html`<td class=${`delta ${className ?? ""}`} title=${`desired ${delta.desired}, reported ${delta.reported}`}><span class="was">${delta.reported}</span>${delta.desired}</td>`
}

const KioskRow = ({ kiosk, nowMs, onEnable }) => {
  const reported = kiosk.twin.reported
  const status = statusOf(kiosk)
  const enabled = kiosk.twin.desired.enabled
  return html`<tr data-kiosk=${kiosk.kioskId} class=${deltasOf(kiosk).length > 0 ? "has-delta" : ""}>
    <td><b>${kiosk.name}</b><div class="muted">${kiosk.kioskId} · ${kiosk.regionId}</div></td>
    <td><span class=${`badge ${status === "unknown" ? "unknown" : status}`}>${status === "unknown" ? "no report" : status}</span></td>
    <${Cell} kiosk=${kiosk} field="enabled"><span class=${`badge ${enabled ? "ok" : "disabled"}`}>${enabled ? "enabled" : "disabled"}</span><//>
    <td>${ago(nowMs, kiosk.twin.lastSeenMs)}</td>
    <td class="num">${kiosk.stackerCards}<div class="muted">${reported === null ? "" : `device ${reported.stackerLevel ?? reported.stackerSensed}`}</div></td>
    <td class="num">${kiosk.binCards} / ${kiosk.binCapacity}<div class="muted">${reported === null ? "" : `device ${reported.binCount}${reported.unidentifiedCaptures > 0 ? `, ${reported.unidentifiedCaptures} unidentified` : ""}`}</div></td>
    <${Cell} kiosk=${kiosk} field="catalogVersion" className="num">${reported?.catalogVersion ?? "–"}<//>
    <td>${reported?.softwareVersion ?? "–"}</td>
    <td>${reported === null
      ? html`<span class="muted">no report yet</span>`
      : deltasOf(kiosk).length === 0
      ? html`<span class="muted">in sync</span>`
      : deltasOf(kiosk).map((d) => html`<div class="delta-line"><b>${d.field}</b>: wants ${d.desired}, is ${d.reported}</div>`)}</td>
    <td><button class=${enabled ? "danger" : "primary"} onClick=${() => onEnable(kiosk, !enabled)}>${enabled ? "Disable" : "Enable"}</button></td>
  </tr>`
}

const Kiosks = ({ overview, onEnable }) => html`<section>
  <h2>Kiosks</h2>
  <table>
    <thead><tr><th>Kiosk</th><th>Device</th><th>Sales</th><th>Last seen</th><th class="num">Stacker</th><th class="num">Bin</th><th class="num">Catalog</th><th>Software</th><th>Reported vs desired</th><th></th></tr></thead>
    <tbody>${overview.kiosks.map((kiosk) => html`<${KioskRow} key=${kiosk.kioskId} kiosk=${kiosk} nowMs=${overview.atMs} onEnable=${onEnable} />`)}</tbody>
  </table>
</section>`

const Money = ({ moneyByKind }) => html`<section>
  <h2>Money by account kind</h2>
  <table><tbody>${Object.entries(moneyByKind).map(([kind, value]) => html`<tr><td>${kind}</td><td class="num">${points(value)}</td></tr>`)}</tbody></table>
  <p class="muted">Posted balances (credits minus debits); the issuer is negative by what it granted.</p>
</section>`

const DeadLetters = ({ letters, onRetry }) => html`<section>
  <h2>Dead letters (${letters.length})</h2>
  ${letters.length === 0
    ? html`<p class="muted">Every outbox message was sent or is still being tried.</p>`
    : html`<table>
        <thead><tr><th>Kind</th><th>Key</th><th class="num">Attempts</th><th>Last error</th><th></th></tr></thead>
        <tbody>${letters.map((letter) => html`<tr data-dead=${letter.id}>
          <td>${letter.kind}</td><td><code>${letter.idempotencyKey}</code></td><td class="num">${letter.attempts}</td>
          <td>${letter.lastError ?? "–"}</td><td><button onClick=${() => onRetry(letter)}>Retry</button></td>
        </tr>`)}</tbody>
      </table>`}
</section>`

export const Dashboard = ({ overview, deadLetters, link, notice, onLogout, onEnable, onRetry }) => html`
  <header>
    <h1>ecoupon fleet</h1>
    <span class=${`live ${link === "live" ? "on" : "off"}`}>${link === "live" ? "live" : link}</span>
    ${overview && html`<span class="muted" style="color:#c9d2dd">as of ${new Date(overview.atMs).toLocaleTimeString()}</span>`}
    <span class="spacer"></span>
    <button onClick=${onLogout}>Sign out</button>
  </header>
  <div class="page">
    ${notice && html`<p class="notice" role="status">${notice}</p>`}
    ${overview === null
      ? html`<p class="muted">Loading the fleet…</p>`
      : html`
        <${Tiles} overview=${overview} />
        <${Alerts} alerts=${overview.alerts} />
        <${Kiosks} overview=${overview} onEnable=${onEnable} />
        <div class="two"><${Money} moneyByKind=${overview.moneyByKind} /><${DeadLetters} letters=${deadLetters} onRetry=${onRetry} /></div>`}
  </div>`
