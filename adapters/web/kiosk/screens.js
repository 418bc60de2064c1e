// The touchscreen's screens, one component each, rendered from the agent's view. A screen sends only
// the customer's choices; what comes next is the agent's answer, pushed back as a new view.
import { h } from "preact"
import { useState } from "preact/hooks"
import htm from "htm"

const html = htm.bind(h)

const Button = ({ id, kind = "", disabled, onClick, children }) =>
  html`<button class=${`btn ${kind}`} data-id=${id} disabled=${disabled} onClick=${onClick}>${children}</button>`

/** The on-screen keypad (a kiosk has no keyboard): digits, delete one, clear. */
const Keypad = ({ t, onDigit, onErase, onClear, disabled }) =>
  html`<div class="keypad">
    ${["1", "2", "3", "4", "5", "6", "7", "8", "9"].map((d) => html`<${Button} id=${`key-${d}`} kind="key" disabled=${disabled} onClick=${() => onDigit(d)}>${d}<//>`)}
    <${Button} id="key-clear" kind="key small" disabled=${disabled} onClick=${onClear}>${t.clear}<//>
    <${Button} id="key-0" kind="key" disabled=${disabled} onClick=${() => onDigit("0")}>0<//>
    <${Button} id="key-erase" kind="key small" disabled=${disabled} onClick=${onErase} aria-label=${t.erase}>⌫<//>
  </div>`

const formatPhone = (digits) =>
  digits.length <= 3 ? digits : digits.length <= 7 ? `${digits.slice(0, 3)}-${digits.slice(3)}` : `${digits.slice(0, 3)}-${digits.slice(3, digits.length - 4)}-${digits.slice(-4)}`

/** A screen where the customer types digits: the number, or the code. */
const DigitsEntry = ({ t, view, maxDigits, minDigits, format, submitId, submitLabel, onSubmit, touch, extra, clearOnSubmit }) => {
  const [digits, setDigits] = useState("")
  const edit = (next) => {
    touch()
    setDigits(next.slice(0, maxDigits))
  }
  return html`<div class="entry">
    <div class="display" data-id="display">${format(digits) || "\u00a0"}</div>
    <${Keypad} t=${t} disabled=${view.busy} onDigit=${(d) => edit(digits + d)} onErase=${() => edit(digits.slice(0, -1))} onClear=${() => edit("")} />
    <div class="actions">
      <${Button} id="back" kind="secondary" disabled=${view.busy} onClick=${() => onSubmit(null)}>${t.back}<//>
      ${extra}
      <${Button}
        id=${submitId}
        kind="primary"
        disabled=${view.busy || digits.length < minDigits}
        onClick=${() => {
          onSubmit(digits)
          if (clearOnSubmit) setDigits("")
        }}
        >${submitLabel}<//
      >
    </div>
  </div>`
}

const Welcome = ({ t, send }) =>
  html`<section class="welcome">
    <h1>${t.welcomeTitle}</h1>
    <p class="lead">${t.welcomeLead}</p>
    <div class="big-actions">
      <${Button} id="start" kind="primary huge" onClick=${() => send({ _tag: "start" })}>${t.start}<//>
      <${Button} id="return" kind="secondary huge" onClick=${() => send({ _tag: "return" })}>${t.returnCard}<//>
    </div>
  </section>`

const Phone = ({ t, view, send, touch }) =>
  html`<section>
    <h1>${t.phoneTitle}</h1>
    <p class="lead">${t.phoneLead}</p>
    <${DigitsEntry}
      t=${t}
      view=${view}
      maxDigits=${11}
      minDigits=${10}
      format=${formatPhone}
      submitId="next"
      submitLabel=${t.next}
      touch=${touch}
      onSubmit=${(digits) => send(digits === null ? { _tag: "back" } : { _tag: "phone", digits })}
    />
  </section>`

const Code = ({ t, view, send, touch }) =>
  html`<section>
    <h1>${t.codeTitle}</h1>
    <p class="lead">${view.codePurpose === "register" ? t.codeLeadRegister(view.phoneHint) : t.codeLeadIdentify(view.phoneHint)}</p>
    <${DigitsEntry}
      t=${t}
      view=${view}
      maxDigits=${6}
      minDigits=${6}
      format=${(digits) => digits.padEnd(6, "·").split("").join(" ")}
      submitId="confirm-code"
      submitLabel=${t.confirmCode}
      touch=${touch}
      clearOnSubmit=${true}
      extra=${html`<${Button} id="resend" kind="secondary" disabled=${view.busy} onClick=${() => send({ _tag: "resend" })}>${t.resend}<//>`}
      onSubmit=${(code) => send(code === null ? { _tag: "back" } : { _tag: "code", code })}
    />
  </section>`

const Offers = ({ t, view, send }) =>
  html`<section>
    <h1>${t.offersTitle}</h1>
    ${view.newlyRegistered ? html`<p class="lead good">${t.welcomeBonus}</p>` : null}
    ${view.offers.length === 0 ? html`<p class="lead">${t.noOffers}</p>` : null}
    <ul class="offers" data-version=${view.catalogVersion}>
      ${view.offers.map(
        (offer) =>
          html`<li key=${offer.offerId}>
            <button class="offer" data-id=${`offer-${offer.offerId}`} disabled=${view.busy || offer.stock <= 0} onClick=${() => send({ _tag: "offer", offerId: offer.offerId })}>
              <span class="title">${offer.title}</span>
              <span class="price">${t.points(offer.pricePoints)}</span>
              <span class="meta">${offer.stock <= 0 ? t.soldOut : t.stockLeft(offer.stock)}</span>
            </button>
          </li>`
      )}
    </ul>
    <div class="actions">
      <${Button} id="finish" kind="secondary" disabled=${view.busy} onClick=${() => send({ _tag: "finish" })}>${t.finish}<//>
    </div>
  </section>`

const MEDIA = ["card", "paper", "phone"]

const Order = ({ t, view, send, touch }) => {
  const offer = view.offers.find((o) => o.offerId === view.selection?.offerId)
  const [quantity, setQuantity] = useState(view.selection?.quantity ?? 1)
  const [medium, setMedium] = useState(view.selection?.medium ?? "card")
  if (offer === undefined) return null
  const maxQuantity = Math.max(1, Math.min(10, offer.stock))
  const change = (q) => {
    touch()
    setQuantity(Math.min(maxQuantity, Math.max(1, q)))
  }
  return html`<section>
    <h1>${t.orderTitle}</h1>
    <p class="lead"><strong>${offer.title}</strong> · ${t.points(offer.pricePoints)}</p>
    <h2>${t.quantity}</h2>
    <div class="stepper">
      <${Button} id="qty-less" kind="key" disabled=${view.busy || quantity <= 1} onClick=${() => change(quantity - 1)} aria-label=${t.fewer}>−<//>
      <span class="count" data-id="quantity">${quantity}</span>
      <${Button} id="qty-more" kind="key" disabled=${view.busy || quantity >= maxQuantity} onClick=${() => change(quantity + 1)} aria-label=${t.more}>+<//>
    </div>
    <h2>${t.medium}</h2>
    <div class="media">
      ${MEDIA.map(
        (m) =>
          html`<button class=${`medium ${m === medium ? "chosen" : ""}`} data-id=${`medium-${m}`} aria-pressed=${m === medium} disabled=${view.busy} onClick=${() => { touch(); setMedium(m) }}>
            <span class="title">${t.media[m]}</span>
            <span class="meta">${t.mediaLead[m]}</span>
          </button>`
      )}
    </div>
    <p class="total">${t.total}: <strong data-id="total">${t.points(offer.pricePoints * quantity)}</strong></p>
    <div class="actions">
      <${Button} id="back" kind="secondary" disabled=${view.busy} onClick=${() => send({ _tag: "back" })}>${t.back}<//>
      <${Button} id="next" kind="primary" disabled=${view.busy} onClick=${() => send({ _tag: "order", quantity, medium })}>${t.next}<//>
    </div>
  </section>`
}

const Confirm = ({ t, view, send }) => {
  const offer = view.offers.find((o) => o.offerId === view.selection?.offerId)
  if (offer === undefined || view.selection === null) return null
  const total = offer.pricePoints * view.selection.quantity
  return html`<section>
    <h1>${t.confirmTitle}</h1>
    <dl class="summary">
      <dt>${offer.title}</dt><dd>${t.points(offer.pricePoints)} × ${view.selection.quantity}</dd>
      <dt>${t.medium}</dt><dd>${t.media[view.selection.medium]}</dd>
      <dt>${t.total}</dt><dd><strong>${t.points(total)}</strong></dd>
      <dt>${t.balanceAfter}</dt><dd>${t.points((view.balancePoints ?? 0) - total)}</dd>
    </dl>
    <div class="actions">
      <${Button} id="back" kind="secondary" disabled=${view.busy} onClick=${() => send({ _tag: "back" })}>${t.back}<//>
      <${Button} id="buy" kind="primary" disabled=${view.busy} onClick=${() => send({ _tag: "confirm" })}>${t.buy}<//>
    </div>
  </section>`
}

const STEPS = {
  card: ["placing", "dispensing", "writing", "take-card", "finishing"],
  paper: ["placing", "printing", "finishing"],
  phone: ["placing", "finishing"]
}

const Dispensing = ({ t, view }) => {
  const medium = view.selection?.medium ?? "card"
  const steps = view.progress === "cancelling" ? [...STEPS[medium], "cancelling"] : STEPS[medium]
  const at = steps.indexOf(view.progress)
  return html`<section class="dispensing">
    <h1>${view.progress === "take-card" ? t.takeCard : t.progressTitle}</h1>
    ${view.progress === "take-card" ? html`<div class="slot-arrow" aria-hidden="true">⬇</div>` : html`<div class="spinner" aria-hidden="true"></div>`}
    <ol class="steps">
      ${steps.map((step, i) => html`<li class=${i < at ? "done" : i === at ? "now" : ""} data-step=${step}>${t.steps[step]}</li>`)}
    </ol>
  </section>`
}

const Receipt = ({ t, view, send }) => {
  const r = view.receipt
  if (r === null) return null
  const more = html`<div class="actions">
    <${Button} id="more" kind="secondary" disabled=${view.busy} onClick=${() => send({ _tag: "more" })}>${t.buyMore}<//>
    <${Button} id="finish" kind="primary" disabled=${view.busy} onClick=${() => send({ _tag: "finish" })}>${t.finish}<//>
  </div>`
  switch (r.kind) {
    case "delivered":
      return html`<section class="receipt">
        <h1>${t.thanks}</h1>
        <div class="coupon">
          <div class="title">${r.title} × ${r.quantity}</div>
          <div class="code"><span>${t.couponCode}</span> <strong data-id="coupon-code">${r.couponCode}</strong></div>
          <div>${t.value}: <strong>${t.points(r.valuePoints)}</strong> · ${t.expires(r.expiresAtMs)}</div>
        </div>
        <p class="lead">${r.medium === "phone" ? t.sentToPhone : r.medium === "paper" ? t.takePaper : t.returnBy(r.cardDeadlineMs)}</p>
        <p class="balance-line">${t.balance}: <strong data-id="balance-after">${t.points(r.balancePoints)}</strong></p>
        ${more}
      </section>`
    case "pending":
      return html`<section class="receipt"><h1>${t.pendingTitle}</h1><p class="lead">${t.pendingLead}</p>${more}</section>`
    case "not-taken":
      return html`<section class="receipt"><h1>${t.notTakenTitle}</h1><p class="lead">${t.notTakenLead}</p>${more}</section>`
    case "failed":
      return html`<section class="receipt">
        <h1>${t.failedTitle}</h1>
        <p class="lead">${t.notices.device[r.error] ?? t.notices.device.Offline}</p>
        ${r.pointsKept ? html`<p class="lead good">${t.pointsKept}</p>` : null}
        ${more}
      </section>`
  }
  return null
}

const ReturnInsert = ({ t, send }) =>
  html`<section class="dispensing">
    <h1>${t.insertTitle}</h1>
    <div class="slot-arrow up" aria-hidden="true">⬆</div>
    <p class="lead">${t.insertLead}</p>
    <div class="actions">
      <${Button} id="cancel" kind="secondary" onClick=${() => send({ _tag: "finish" })}>${t.cancel}<//>
    </div>
  </section>`

const ReturnResult = ({ t, view, send }) => {
  const r = view.returnResult
  if (r === null) return null
  const body =
    r.kind === "returned"
      ? html`<h1>${t.returnedTitle}</h1><p class="lead" data-id="forwarded">${t.forwarded(r.forwardedPoints)}</p>${r.chargedBefore ? html`<p class="lead">${t.chargedBefore}</p>` : null}`
      : html`<h1>${t.returnFailedTitle}</h1>
          <p class="lead">${r.kind === "rejected" ? t.returnRejected[r.reason] : r.kind === "bin-full" ? t.binFull : (t.notices.device[r.error] ?? t.notices.device.Offline)}</p>`
  return html`<section class="receipt">
    ${body}
    <div class="actions"><${Button} id="finish" kind="primary" disabled=${view.busy} onClick=${() => send({ _tag: "finish" })}>${t.finish}<//></div>
  </section>`
}

const OutOfService = ({ t }) => html`<section class="welcome out"><h1>${t.outTitle}</h1><p class="lead">${t.outLead}</p></section>`

const screens = {
  welcome: Welcome,
  phone: Phone,
  code: Code,
  offers: Offers,
  order: Order,
  confirm: Confirm,
  dispensing: Dispensing,
  receipt: Receipt,
  "return-insert": ReturnInsert,
  "return-result": ReturnResult,
  "out-of-service": OutOfService
}

export const Screen = (props) => {
  const Component = screens[props.view.screen]
  return Component === undefined ? null : html`<${Component} ...${props} />`
}
