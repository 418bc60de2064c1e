import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs"
import { hostname } from "node:os"

/**
 * The lock that keeps a second process off a durable store: a file holding the owner's pid and host,
 * put in place with link(2), which fails if the name exists, so it appears whole or not at all.
 *
 * A lock whose process is gone (SIGKILL, power loss) is stale and taken over: the next owner renames
 * it aside, checks that what it moved is still the dead owner's (another process may have taken over
 * first), and retries. Liveness is probed with `kill(pid, 0)`, so the lock means "one process on this
 * host"; a store on a shared network filesystem written from two hosts is not supported, and a lock
 * from another host is never taken over automatically.
 */
export class StoreLocked extends Error {}

interface LockOwner {
  readonly pid: number
  readonly host: string
}

const takeoverAttemptsMax = 3

const parseOwner = (text: string): LockOwner | undefined => {
  const match = /^pid (\d+) host (\S+)\s*$/.exec(text)
  return match === null ? undefined : { pid: Number(match[1]), host: match[2] as string }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (cause) {
    // EPERM: the process exists but belongs to someone else.
    return typeof cause === "object" && cause !== null && "code" in cause && cause.code === "EPERM"
  }
}

const readOwner = (path: string): LockOwner | undefined | "missing" => {
  try {
    return parseOwner(readFileSync(path, "utf8"))
  } catch {
    return "missing"
  }
}

/** Takes the lock at `path` or throws StoreLocked saying who holds it. Returns the release function. */
export const acquireLock = (path: string): (() => void) => {
  const me: LockOwner = { pid: process.pid, host: hostname() }
  const staged = `${path}.${me.pid}`
  const file = openSync(staged, "w")
  try {
    writeSync(file, `pid ${me.pid} host ${me.host}\n`)
    fsyncSync(file)
  } finally {
    closeSync(file)
  }
  try {
    for (let attempt = 0; attempt < takeoverAttemptsMax; attempt++) {
      try {
        linkSync(staged, path)
        return () => rmSync(path, { force: true })
      } catch (cause) {
        if (!(typeof cause === "object" && cause !== null && "code" in cause && cause.code === "EEXIST")) throw cause
      }
      const owner = readOwner(path)
      if (owner === "missing") continue
      if (owner === undefined) {
        throw new StoreLocked(`lock file ${path} exists but is unreadable; if no ecoupon process uses this database, delete it`)
      }
      if (owner.host !== me.host) {
        throw new StoreLocked(`database is locked by process ${owner.pid} on host ${owner.host} (lock file ${path}); stop it, or delete the lock file if that host is gone`)
      }
      if (owner.pid === me.pid) throw new StoreLocked(`database is already open in this process (lock file ${path})`)
      if (isAlive(owner.pid)) {
        throw new StoreLocked(`database is in use by process ${owner.pid} (lock file ${path}); stop that process first`)
      }
      const aside = `${path}.stale.${me.pid}`
      try {
        renameSync(path, aside)
      } catch {
        continue
      }
      const moved = readOwner(aside)
      if (moved !== "missing" && moved !== undefined && moved.pid !== owner.pid) {
        // We moved a live lock another process took over in the meantime: put it back and give way.
        try {
          linkSync(aside, path)
        } finally {
          rmSync(aside, { force: true })
        }
        throw new StoreLocked(`database is in use by process ${moved.pid} (lock file ${path}); stop that process first`)
      }
      rmSync(aside, { force: true })
    }
    throw new StoreLocked(`could not take the lock file ${path} after ${takeoverAttemptsMax} attempts; another process keeps taking it`)
  } finally {
    rmSync(staged, { force: true })
  }
}
