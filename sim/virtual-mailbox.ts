import { Effect } from "effect"
import type { TimerHandle, VirtualTime } from "./virtual-time.js"

/**
 * Coordination for fibers on virtual time that plain callbacks can drive: an arrival timer puts a
 * customer in a kiosk's mailbox without a fiber of its own, a hand-over wakes the outbox worker.
 * Both are bounded and resume their one waiting fiber through Effect's scheduler, so the order of
 * events stays the deterministic order of the virtual-time loop.
 */

/** A FIFO with one consumer fiber. `offer` refuses (false) when `capacity` items wait already. */
export class Mailbox<A> {
  private items: Array<A> = []
  private head = 0
  private waiter: ((effect: Effect.Effect<A>) => void) | undefined = undefined

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`a mailbox needs a capacity >= 1, not ${capacity}`)
  }

  get size(): number {
    return this.items.length - this.head
  }

  offer(item: A): boolean {
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      waiter(Effect.succeed(item))
      return true
    }
    if (this.size >= this.capacity) return false
    this.items.push(item)
    return true
  }

  /** Puts `item` first, ahead of what waits (an operator who jumps the queue); ignores the capacity. */
  offerFirst(item: A): void {
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      waiter(Effect.succeed(item))
      return
    }
    if (this.head > 0) this.items[--this.head] = item
    else this.items.unshift(item)
  }

  private shift(): A | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head] as A
    this.head++
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  /** The oldest item, waiting for one if none is there. One fiber takes at a time. */
  readonly take: Effect.Effect<A> = Effect.async<A>((resume) => {
    if (this.size > 0) {
      resume(Effect.succeed(this.shift() as A))
      return
    }
    if (this.waiter !== undefined) {
      resume(Effect.dieMessage("mailbox: a second fiber waits to take; a mailbox has one consumer"))
      return
    }
    this.waiter = resume
    return Effect.sync(() => {
      this.waiter = undefined
    })
  })

  /** Every waiting item, oldest first, leaving the mailbox empty. */
  drain(): Array<A> {
    const all = this.items.slice(this.head)
    this.items = []
    this.head = 0
    return all
  }
}

/**
 * Wakes one fiber that rests for at most a while: the outbox worker sleeps until something is queued
 * (a nudge) or its idle period ends. Nudges while nobody rests are remembered as one.
 */
export class Nudge {
  private waiter: ((effect: Effect.Effect<boolean>) => void) | undefined = undefined
  private timer: TimerHandle | undefined = undefined
  private pending = false

  constructor(private readonly time: VirtualTime) {}

  /** Wakes the resting fiber (true), or the next `rest` returns at once. */
  nudge(): void {
    const waiter = this.waiter
    if (waiter === undefined) {
      this.pending = true
      return
    }
    this.waiter = undefined
    this.timer?.cancel()
    this.timer = undefined
    waiter(Effect.succeed(true))
  }

  /** Rests until nudged (true) or `ms` pass (false). */
  rest(ms: number): Effect.Effect<boolean> {
    return Effect.async<boolean>((resume) => {
      if (this.pending) {
        this.pending = false
        resume(Effect.succeed(true))
        return
      }
      this.waiter = resume
      this.timer = this.time.at(this.time.nowMs + ms, () => {
        this.timer = undefined
        const waiting = this.waiter
        this.waiter = undefined
        waiting?.(Effect.succeed(false))
      })
      return Effect.sync(() => {
        this.waiter = undefined
        this.timer?.cancel()
        this.timer = undefined
      })
    })
  }
}
