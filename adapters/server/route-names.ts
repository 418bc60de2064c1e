import { HttpApi } from "@effect/platform"

/**
 * Names a request by the endpoint it reaches ("kiosks.place", "health.readyz"), for metrics and
 * logs: a path with ids in it would make a label per order. Built once from the API's own routes.
 * What matches no endpoint is "unmatched" (the docs, /openapi.json and routes added beside the API
 * are named by the pipeline's `extraRoutes`).
 */
export type RouteNamer = (method: string, path: string) => string

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

export const routeNamer = (api: HttpApi.HttpApi.Any, extraRoutes: Readonly<Record<string, string>> = {}): RouteNamer => {
  const routes: Array<{ readonly method: string; readonly pattern: RegExp; readonly name: string }> = []
  HttpApi.reflect(api as HttpApi.HttpApi.AnyWithProps, {
    onGroup: () => {},
    onEndpoint: ({ endpoint, group }) => {
      const source = endpoint.path
        .split("/")
        .map((segment) => (segment.startsWith(":") ? "[^/]+" : escape(segment)))
        .join("/")
      routes.push({ method: endpoint.method, pattern: new RegExp(`^${source}$`), name: `${group.identifier}.${endpoint.name}` })
    }
  })
  return (method, path) => {
    const extra = extraRoutes[path]
    if (extra !== undefined) return extra
    for (const route of routes) if (route.method === method && route.pattern.test(path)) return route.name
    return "unmatched"
  }
}
