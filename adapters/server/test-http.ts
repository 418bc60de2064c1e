import { createServer } from "node:http"
import { type HttpApp, HttpServer, type HttpServerRequest } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, type Scope } from "effect"

/**
 * For tests: serves `app` on 127.0.0.1 at a port the OS picks, for as long as the scope lives, and
 * answers the base URL. The app's requirements come from the caller's context.
 */
export const serveForTest = <E, R>(
  app: HttpApp.Default<E, R | HttpServerRequest.HttpServerRequest | Scope.Scope>
): Effect.Effect<string, never, Scope.Scope | R> =>
  Effect.gen(function* () {
    const context = yield* Layer.build(NodeHttpServer.layer(() => createServer(), { port: 0, host: "127.0.0.1" })).pipe(Effect.orDie)
    yield* HttpServer.serveEffect(app).pipe(Effect.provide(context))
    return yield* HttpServer.addressFormattedWith((address) => Effect.succeed(address)).pipe(Effect.provide(context))
  })
