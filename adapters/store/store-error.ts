import { Data } from "effect"

/**
 * The durable store refuses to open (or `db check` fails): a damaged snapshot or journal, a lock held
 * by another process, a file it cannot read. The message names the file and, for damage, the byte
 * offset, and says what to do; the store never repairs such damage by itself.
 */
export class StoreError extends Data.TaggedError("StoreError")<{
  readonly message: string
  readonly file?: string | undefined
  readonly offset?: number | undefined
  readonly cause?: unknown
}> {}
