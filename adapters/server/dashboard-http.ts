import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"

/**
 * The operators' fleet dashboard (a page and its scripts) at `/`, beside the API. The page is plain
 * HTML with preact and htm loaded as ES modules through an import map: no build step. Only the files
 * listed here are served, read once at start-up, so no request can reach anything else on disk.
 *
 * The page logs in with an operator token, keeps it in sessionStorage (gone when the tab closes) and
 * sends it as `Authorization: Bearer` on every call, the event stream included (read with fetch, since
 * EventSource cannot send headers). No cookie, so no cross-site request can act as the operator.
 */

/** The package's root, from source (adapters/server) and from the build (dist/adapters/server) alike. */
const packageRoot = (): string => {
  let directory = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(directory, "package.json"))) {
    const parent = dirname(directory)
    if (parent === directory) throw new Error("the ecoupon package root (package.json) was not found above the server's code")
    directory = parent
  }
  return directory
}

interface Asset {
  readonly file: string
  readonly contentType: string
}

const javascript = "text/javascript; charset=utf-8"

/** URL path -> file under the package root. */
export const DASHBOARD_ASSETS: Readonly<Record<`/${string}`, Asset>> = {
  "/": { file: "adapters/web/dashboard/index.html", contentType: "text/html; charset=utf-8" },
  "/dashboard/app.js": { file: "adapters/web/dashboard/app.js", contentType: javascript },
  "/dashboard/views.js": { file: "adapters/web/dashboard/views.js", contentType: javascript },
  "/dashboard/dashboard.css": { file: "adapters/web/dashboard/dashboard.css", contentType: "text/css; charset=utf-8" },
  "/vendor/preact.js": { file: "node_modules/preact/dist/preact.module.js", contentType: javascript },
  "/vendor/preact-hooks.js": { file: "node_modules/preact/hooks/dist/hooks.module.js", contentType: javascript },
  "/vendor/htm.js": { file: "node_modules/htm/dist/htm.module.js", contentType: javascript }
}

/** Route names for metrics and logs (the pipeline's `extraRoutes`). */
export const dashboardRouteNames: Readonly<Record<string, string>> = Object.fromEntries(Object.keys(DASHBOARD_ASSETS).map((path) => [path, "dashboard"]))

export const dashboardLive = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function* () {
    const root = packageRoot()
    for (const [path, asset] of Object.entries(DASHBOARD_ASSETS) as ReadonlyArray<[`/${string}`, Asset]>) {
      const body = readFileSync(join(root, asset.file))
      yield* router.get(
        path,
        Effect.succeed(
          HttpServerResponse.uint8Array(body, {
            contentType: asset.contentType,
            headers: { "cache-control": "no-cache", "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" }
          })
        )
      )
    }
  })
)
