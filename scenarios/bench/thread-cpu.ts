import * as fs from "node:fs"

/**
 * The CPU time of the calling thread alone, in milliseconds, where Linux tells it
 * (`/proc/thread-self/schedstat`: nanoseconds on a CPU, exact, not sampled); `undefined` elsewhere.
 * `process.cpuUsage()` counts every thread of the process, and Node 20 has no per-thread figure, so
 * a worker thread reads its own here: on a shared machine, CPU time is the figure that does not
 * depend on what the other users run. Open it in the thread that measures (the file names the
 * thread that opened it). A read costs ~15 us.
 */
export const threadCpuClock = (): (() => number) | undefined => {
  let fd: number
  try {
    fd = fs.openSync("/proc/thread-self/schedstat", "r")
  } catch {
    return undefined
  }
  const buffer = Buffer.alloc(128)
  const read = (): number => {
    const length = fs.readSync(fd, buffer, 0, buffer.length, 0)
    const end = buffer.indexOf(32)
    const nanoseconds = Number(buffer.toString("latin1", 0, end < 0 || end > length ? length : end))
    if (!Number.isFinite(nanoseconds)) throw new Error(`unreadable /proc/thread-self/schedstat: ${buffer.toString("latin1", 0, length)}`)
    return nanoseconds / 1e6
  }
  read()
  return read
}
