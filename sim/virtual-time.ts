import { Clock, Duration, Effect, Exit, type Fiber, FiberRef, RuntimeFlags, Scheduler } from "effect"

/**
 * Deterministic virtual time for the fleet simulator: a discrete-event loop behind Effect's `Clock`
 * and `Scheduler`.
 *
 * - Time stands still while there is work: every fiber runs until it blocks. Work is the FIFO of tasks
 *   Effect's runtime schedules (a fiber resumed, a fiber yielding after its op budget); this class is
 *   that `Scheduler`, so nothing runs on Node's event loop.
 * - When no task is left, the earliest timer fires: time jumps to it. Timers are ordered by (time,
 *   sequence of creation), so two runs that make the same calls fire them in the same order.
 * - `Clock.sleep` is a timer whose task resumes the sleeping fiber; `at` is a timer with a plain
 *   callback, for events that need no fiber of their own (an arrival, a wake-up).
 *
 * Why not Effect's `TestClock`: it runs on the real scheduler and steps sleeps one `adjust` at a
 * time; at fleet scale it cost about 2 ms per sleep under load, where this costs a few microseconds
 * (see `sim/README.md`, "The scheduler", for the measurements).
 *
 * Everything run here must be synchronous apart from sleeps and fiber coordination: a fiber that waits
 * on a real promise would never be resumed in virtual time, so the loop reports it as stalled instead
 * of skipping ahead. Build layers that load files or WebAssembly before `run`.
 */

interface Timer {
  readonly atMs: number
  readonly seq: number
  task: (() => void) | undefined
  /** A sleep's: whether the sleep was interrupted, so its timer was cancelled (`sleep`). */
  readonly cancelled?: () => boolean
}

/** Handle to cancel a timer; cancelling one that fired is a no-op. */
export interface TimerHandle {
  readonly cancel: () => void
}

/** A run ended because the program waited on something outside virtual time. */
export class VirtualTimeStalled extends Error {
  constructor(readonly nowMs: number) {
    super(`virtual time stalled at ${nowMs} ms: no timer is set and no fiber can run, yet the program has not finished; something waits on real I/O (a promise) inside the simulation`)
  }
}

export interface RunOptions {
  /** Called whenever time moves, before the timer at the new time fires. Keep it cheap. */
  readonly onAdvance?: (nowMs: number) => void
  /** Most timers to fire (a runaway guard); default unbounded. */
  readonly timersMax?: number
}

export interface SlicedRunOptions extends RunOptions {
  /** Wall-clock milliseconds the loop runs before giving Node's event loop a turn; 50 by default. */
  readonly sliceMs?: number
}

export class VirtualTime {
  nowMs: number
  /** Timers fired so far (for figures). */
  timersFired = 0
  tasksRun = 0
  private seq = 0
  private readonly heap: Array<Timer> = []
  private tasks: Array<() => void> = []
  private taskHead = 0

  constructor(startMs = 0) {
    this.nowMs = startMs
  }

  /** Runs `task` (plain code, no Effect) when virtual time reaches `atMs` (now if it is past). */
  at(atMs: number, task: () => void): TimerHandle {
    const timer: Timer = { atMs: Math.max(atMs, this.nowMs), seq: this.seq++, task }
    this.push(timer)
    return {
      cancel: () => {
        timer.task = undefined
      }
    }
  }

  /** Pending timers, cancelled ones included until their time comes. */
  get pendingTimers(): number {
    return this.heap.length
  }

  readonly scheduler: Scheduler.Scheduler = {
    shouldYield: Scheduler.defaultShouldYield,
    scheduleTask: (task) => {
      this.tasks.push(task)
    }
  }

  readonly clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => this.nowMs,
    currentTimeMillis: Effect.sync(() => this.nowMs),
    unsafeCurrentTimeNanos: () => BigInt(this.nowMs) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(this.nowMs) * 1_000_000n),
    sleep: (duration) => this.sleep(Duration.toMillis(duration))
  }

  /**
   * A fiber sleeps `ms` of virtual time; interrupting it cancels its timer.
   *
   * The cancel is lazy: `Effect.async` with a canceller wraps the wait in an interruption handler
   * (about 9 of a sleep's 12 run-loop steps). Without one, an interrupted sleep's timer stays set
   * and, when its time comes, resumes nothing (the runtime ignores a resume of a wait that was
   * interrupted). A cancelled timer stayed in the heap until its time before as well, and time moves
   * to it either way, so the run is the same; the timer only must not count in `timersFired`: it
   * was interrupted if the fiber slept interruptibly and has been interrupted since.
   */
  sleep(ms: number): Effect.Effect<void> {
    return Effect.withFiberRuntime((fiber, status) =>
      Effect.async<void>((resume) => {
        const interruptedBefore = fiber.getFiberRef(FiberRef.interruptedCause)
        const interruptible = RuntimeFlags.interruptible(status.runtimeFlags)
        const timer: Timer = {
          atMs: this.nowMs + Math.max(0, ms),
          seq: this.seq++,
          task: () => resume(Effect.void),
          cancelled: () => interruptible && fiber.getFiberRef(FiberRef.interruptedCause) !== interruptedBefore
        }
        this.push(timer)
      })
    )
  }

  /**
   * Runs `effect` to completion in virtual time with this clock and scheduler, returning its exit.
   * Fibers it forked and left running are abandoned where they stand when it ends.
   */
  run<A, E>(effect: Effect.Effect<A, E>, options: RunOptions = {}): Exit.Exit<A, E> {
    const loop = this.start(effect, options)
    // Never ends a slice early: one synchronous stretch to the end.
    return loop(() => false) as Exit.Exit<A, E>
  }

  /**
   * `run`, giving Node's event loop a turn after every `sliceMs` of wall time, so that signals (Ctrl-C),
   * I/O and timers outside the simulation are seen while it runs. The simulation is the same as under
   * `run`: a pause between slices moves no virtual time and reorders no task, so the same seed gives
   * the same run. Wall time decides only where the pauses fall; nothing inside the simulation sees it.
   */
  async runSliced<A, E>(effect: Effect.Effect<A, E>, options: SlicedRunOptions = {}): Promise<Exit.Exit<A, E>> {
    const sliceMs = options.sliceMs ?? 50
    const loop = this.start(effect, options)
    for (;;) {
      const sliceEndsAt = performance.now() + sliceMs
      const exit = loop(() => performance.now() >= sliceEndsAt)
      if (exit !== undefined) return exit
      await new Promise<void>((resume) => setImmediate(resume))
    }
  }

  /**
   * Forks `effect` on this clock and scheduler and returns the loop that drives it: each call runs
   * until the effect ends (its exit) or `sliceOver()` says to pause (undefined; call again to go on).
   */
  private start<A, E>(effect: Effect.Effect<A, E>, options: RunOptions): (sliceOver: () => boolean) => Exit.Exit<A, E> | undefined {
    const fiber: Fiber.RuntimeFiber<A, E> = Effect.runFork(Effect.withClock(effect, this.clock), { scheduler: this.scheduler })
    const timersMax = options.timersMax ?? Number.POSITIVE_INFINITY
    let fired = 0
    return (sliceOver) => {
      // Once the effect is done, the tasks still queued (fibers it left running) are not run.
      const doneOrOver = () => fiber.unsafePoll() !== null || sliceOver()
      for (;;) {
        const drained = this.drainTasks(doneOrOver)
        const exit = fiber.unsafePoll()
        if (exit !== null) return exit
        if (!drained) return undefined
        if (sliceOver()) return undefined
        const timer = this.pop()
        if (timer === undefined) {
          return Exit.die(new VirtualTimeStalled(this.nowMs))
        }
        if (timer.atMs !== this.nowMs) {
          this.nowMs = timer.atMs
          options.onAdvance?.(this.nowMs)
        }
        const task = timer.task
        if (task === undefined) continue
        timer.task = undefined
        if (timer.cancelled?.() === true) {
          // Resumes nothing; run anyway, as the runtime ignores it (see `sleep`).
          task()
          continue
        }
        this.timersFired++
        if (++fired > timersMax) return Exit.die(new Error(`virtual time: more than ${timersMax} timers fired; a loop without a bound?`))
        task()
      }
    }
  }

  /** Runs queued tasks until none is left (true) or `sliceOver()` says to pause (false; the rest stay queued). */
  private drainTasks(sliceOver: () => boolean): boolean {
    while (this.taskHead < this.tasks.length) {
      // A task can be long (a fiber runs up to its op budget), so ask before each one.
      if (sliceOver()) return false
      // Below the length, so present.
      const task = this.tasks[this.taskHead] as () => void
      this.taskHead++
      this.tasksRun++
      task()
      // Compact now and then so a long run does not keep every task it ever ran.
      if (this.taskHead > 4096 && this.taskHead * 2 > this.tasks.length) {
        this.tasks = this.tasks.slice(this.taskHead)
        this.taskHead = 0
      }
    }
    this.tasks.length = 0
    this.taskHead = 0
    return true
  }

  // --- binary heap ordered by (atMs, seq) ------------------------------------------------------------
  // Every index read below is checked against the heap's length first, so the `!`s hold.

  private static before(a: Timer, b: Timer): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq)
  }

  private push(timer: Timer): void {
    const heap = this.heap
    heap.push(timer)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!VirtualTime.before(timer, heap[parent]!)) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = timer
  }

  private pop(): Timer | undefined {
    const heap = this.heap
    const top = heap[0]
    if (top === undefined) return undefined
    const last = heap.pop()!
    if (heap.length > 0) {
      let i = 0
      const n = heap.length
      for (;;) {
        const left = 2 * i + 1
        if (left >= n) break
        const right = left + 1
        const child = right < n && VirtualTime.before(heap[right]!, heap[left]!) ? right : left
        if (!VirtualTime.before(heap[child]!, last)) break
        heap[i] = heap[child]!
        i = child
      }
      heap[i] = last
    }
    return top
  }
}
