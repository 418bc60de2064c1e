import { createRequire } from "node:module"
import { readFile } from "node:fs/promises"
import { Effect } from "effect"
import initSqlJs from "sql.js"

/** The sql.js module: its `Database` constructor, once the WebAssembly is compiled. */
export type SqlJs = initSqlJs.SqlJsStatic

let loading: Promise<SqlJs> | undefined

/**
 * sql.js compiled and instantiated once per process: every database in the process shares one wasm
 * module (each `new Database()` gets its own SQLite connection inside it). The wasm file is read from
 * the installed package rather than fetched, so this works offline and under any working directory.
 */
export const loadSqlJs: Effect.Effect<SqlJs> = Effect.promise(() => {
  if (loading === undefined) {
    const wasmPath = createRequire(import.meta.url).resolve("sql.js/dist/sql-wasm.wasm")
    loading = readFile(wasmPath).then((wasm) =>
      // Copy into a fresh ArrayBuffer: the emscripten loader wants the exact bytes, not a pooled view.
      initSqlJs({ wasmBinary: wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) })
    )
    // A failed load must not poison every later attempt in the process.
    loading.catch(() => {
      loading = undefined
    })
  }
  return loading
})
