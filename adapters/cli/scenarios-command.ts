import { Command, Options } from "@effect/cli"
import { integerOption } from "./option-values.js"
import { writeFileSync } from "node:fs"
import { Cause, Config, Console, Effect, Either, Option, Redacted } from "effect"
import { catalog } from "../../scenarios/catalog.js"
import { checkServer, remoteHttpLayer } from "../../scenarios/layer-http-remote.js"
import { layerNames, layers } from "../../scenarios/layers.js"
import type { ScenarioLayer } from "../../scenarios/system.js"
import { parseServerUrl } from "./kiosk-command.js"
import { INTERRUPTED_EXIT } from "./sim-command.js"
import { decodeToken } from "../../scenarios/replay-token.js"
import { failureText, resultLine, summaryText } from "../../scenarios/report-console.js"
import { renderHtmlReport } from "../../scenarios/report-html.js"
import { renderJunit } from "../../scenarios/report-junit.js"
import { checkDeterminism, DEFAULT_RUNS, MODEL_SUITE, runReplay, runSuite, type ScenarioResult, selectSuite } from "../../scenarios/runner.js"

/**
 * `ecoupon scenarios list` and `ecoupon scenarios run` (issue 11): QA's scenario suites on a layer of
 * their choice, with progress on stderr, a summary on stdout, JUnit XML and a replay line for every
 * failure. Exit status 1 on any failure, 2 on bad options.
 */

const usageError = (message: string) => Effect.zipRight(Console.error(`ecoupon scenarios: ${message}`), Effect.sync(() => void (process.exitCode = 2)))

const listCommand = Command.make("list", {}, () =>
  Effect.gen(function* () {
    for (const scenario of catalog) {
      yield* Console.log(`${scenario.name}  (${scenario.covers}${scenario.smoke ? ", smoke" : ""})`)
      yield* Console.log(`  given ${scenario.given}\n  when ${scenario.when}\n  then ${scenario.then}`)
    }
    yield* Console.log(`${MODEL_SUITE}  (model-based: random sequences of up to 50 commands held to a model; in --suite full)`)
  })
).pipe(Command.withDescription("List the named scenarios (given/when/then) and the suites"))

const write = (path: string, text: string, what: string) =>
  Effect.try({ try: () => writeFileSync(path, text), catch: (cause) => `could not write the ${what} to ${path}: ${String(cause)}` })

const runCommand = Command.make(
  "run",
  {
    suite: Options.text("suite").pipe(
      Options.withDefault("smoke"),
      Options.withDescription(`smoke, full, or scenario names separated by commas (see \`ecoupon scenarios list\`; "${MODEL_SUITE}" is the model-based suite)`)
    ),
    layer: Options.choice("layer", layerNames).pipe(Options.withDefault("sim" as const), Options.withDescription("Where the system under test runs: sim (in process, virtual time), serial (drivers to emulators over ptys), http (a management server the runner starts on a temporary embedded store, or the one --server names; kiosks, merchants and operators over its API)")),
    seed: integerOption("seed").pipe(Options.withDefault(1), Options.withDescription("Seeds the system's ids and devices, and the model-based suite's search")),
    runs: integerOption("runs").pipe(Options.withDefault(DEFAULT_RUNS), Options.withDescription("Model-based runs (each a fresh system and up to 50 commands)")),
    replay: Options.text("replay").pipe(Options.optional, Options.withDescription("Run exactly what a failure's replay token says")),
    junit: Options.file("junit").pipe(Options.optional, Options.withDescription("Write JUnit XML here")),
    html: Options.file("html").pipe(Options.optional, Options.withDescription("Write the HTML report here (one self-contained page)")),
    checkDeterminism: Options.boolean("check-determinism").pipe(Options.withDescription("Run each seed twice on the sim layer and compare the traces' hashes")),
    server: Options.text("server").pipe(
      Options.optional,
      Options.withDescription("With --layer http: run against this server (`ecoupon serve --gateways demo`, e.g. a QA environment) instead of one the runner starts; needs --token")
    ),
    token: Options.redacted("token").pipe(
      Options.withFallbackConfig(Config.redacted("ECOUPON_TOKEN")),
      Options.optional,
      Options.withDescription("With --server: an admin's token, eo_... (default: $ECOUPON_TOKEN; prefer the environment, a command line is visible to every user)")
    )
  },
  (options) =>
    Effect.gen(function* () {
      let layer: ScenarioLayer | undefined = layers[options.layer]
      if (layer === undefined) return yield* usageError(`no ${options.layer} layer in this build`)
      if (Option.isSome(options.server)) {
        if (options.layer !== "http") return yield* usageError(`--server runs the http layer against a server you started; add --layer http (not ${options.layer})`)
        if (options.checkDeterminism) return yield* usageError("--check-determinism runs on the sim layer; drop --server")
        const url = parseServerUrl(options.server.value)
        if ("error" in url) return yield* usageError(url.error)
        const token = Option.isSome(options.token) ? Redacted.value(options.token.value).trim() : ""
        if (token === "") return yield* usageError("--server needs an admin's token: give --token or set ECOUPON_TOKEN")
        const server = { url: url.ok, token }
        const refused = yield* Effect.promise(() => checkServer(server))
        if (refused !== undefined) {
          yield* Console.error(`ecoupon scenarios: ${refused}`)
          process.exitCode = 1
          return
        }
        layer = remoteHttpLayer(server)
      } else if (Option.isSome(options.token)) {
        return yield* usageError("--token goes with --server (the runner's own server needs none)")
      }
      const where = layer.where === undefined ? `the ${layer.name} layer` : `the ${layer.name} layer against ${layer.where}`
      if (options.runs < 1 || options.runs > 100_000) return yield* usageError(`--runs takes 1 to 100000, got ${options.runs}`)
      const suite = options.suite.split(",").map((name) => name.trim()).filter((name) => name.length > 0)
      const unknown = selectSuite(suite).unknown
      if (unknown.length > 0) return yield* usageError(`no scenario named ${unknown.join(", ")}; \`ecoupon scenarios list\` names them all`)
      const startedMs = performance.now()
      // What ran so far: on Ctrl-C or SIGTERM the summary and reports are of these, marked partial.
      const ran: Array<ScenarioResult> = []
      const progress = (result: ScenarioResult) => {
        ran.push(result)
        process.stderr.write(`${resultLine(result)}\n`)
      }
      if (options.checkDeterminism) {
        if (options.layer !== "sim") return yield* usageError(`--check-determinism runs each seed twice on the sim layer (virtual time, one seed one run); drop --layer ${options.layer}`)
        const simLayer = layers.sim
        if (simLayer === undefined) return yield* usageError("the determinism check needs the sim layer")
        const pairs = yield* Effect.tryPromise((signal) => checkDeterminism({ layer: simLayer, suite, seed: options.seed, runs: options.runs, signal }))
        for (const pair of pairs) yield* Console.log(`${pair.first === pair.second ? "same" : "DIFFERENT"} ${pair.name} ${pair.first.slice(0, 16)} ${pair.second.slice(0, 16)}`)
        const different = pairs.filter((pair) => pair.first !== pair.second).length
        yield* Console.log(`determinism: ${pairs.length - different} of ${pairs.length} gave the same trace twice (seed ${options.seed})`)
        if (different > 0) process.exitCode = 1
        return
      }
      const report = (results: ReadonlyArray<ScenarioResult>, partial: boolean) =>
        Effect.gen(function* () {
          for (const result of results.filter((r) => !r.ok)) yield* Console.log(`\n${failureText(result)}`)
          if (partial) yield* Console.log(`\nPARTIAL: interrupted after ${results.length} scenario result(s); what had not finished is not counted`)
          yield* Console.log(`\n${summaryText(results, performance.now() - startedMs)}`)
          const generatedAt = new Date(Date.now()).toISOString()
          if (Option.isSome(options.junit)) yield* write(options.junit.value, renderJunit(results, generatedAt), "JUnit XML")
          if (Option.isSome(options.html)) {
            const named = Option.isSome(options.replay) ? "replay" : suite.join(", ")
            const meta = { seed: options.seed, suite: partial ? `${named} (partial: interrupted)` : named, generatedAt, wallMs: performance.now() - startedMs }
            yield* write(options.html.value, renderHtmlReport(results, meta), "HTML report")
            process.stderr.write(`report: ${options.html.value}\n`)
          }
        })
      let results: ReadonlyArray<ScenarioResult>
      if (Option.isSome(options.replay)) {
        const token = decodeToken(options.replay.value)
        if (Either.isLeft(token)) return yield* usageError(token.left)
        if (layer.where !== undefined && token.right.layer !== "http") return yield* usageError(`the token is for the ${token.right.layer} layer; --server runs the http layer only`)
        const tokenLayer = layer.where !== undefined ? layer : layers[token.right.layer]
        if (tokenLayer === undefined) return yield* usageError(`the token is for the ${token.right.layer} layer, which this build does not have`)
        process.stderr.write(`replaying ${token.right.suite} on ${tokenLayer.where === undefined ? `the ${token.right.layer} layer` : `the http layer against ${tokenLayer.where}`}, seed ${token.right.seed}\n`)
        const result = yield* Effect.tryPromise((signal) => runReplay(token.right, tokenLayer, { signal }))
        progress(result)
        results = [result]
      } else {
        process.stderr.write(`running ${suite.join(", ")} on ${where}, seed ${options.seed}\n`)
        const chosen = layer
        results = yield* Effect.tryPromise((signal) =>
          runSuite({
            layer: chosen,
            suite,
            seed: options.seed,
            runs: options.runs,
            signal,
            onResult: progress,
            onModelRun: (run) => {
              if (run % 10 === 0) process.stderr.write(`  ${MODEL_SUITE}: ${run} run(s)\n`)
            }
          })
        ).pipe(
          // Ctrl-C or SIGTERM: the runner stops between two steps; what ran is summarised and
          // written (marked partial), and the process exits 130.
          Effect.onInterrupt(() =>
            Effect.zipRight(
              Effect.ignore(report(ran, true)),
              Effect.sync(() => void (process.exitCode = INTERRUPTED_EXIT))
            )
          )
        )
      }
      yield* report(results, false)
      if (results.some((result) => !result.ok)) process.exitCode = 1
    }).pipe(
      Effect.catchAll((error) =>
        typeof error === "string"
          ? usageError(error)
          : // A run that could not go on (a server that went away mid-run): one line, exit 1.
            Effect.zipRight(
              Console.error(`ecoupon scenarios: ${Cause.isUnknownException(error) && error.error instanceof Error ? error.error.message : String(error)}`),
              Effect.sync(() => void (process.exitCode = 1))
            )
      )
    )
).pipe(Command.withDescription("Run scenario suites on a layer: a console summary, JUnit XML, and a replay line per failure (exit 1 on any failure)"))

export const scenariosCommand = Command.make("scenarios").pipe(
  Command.withDescription("QA's scenario suites: the named catalog and the model-based suite, on the sim, serial or http layer"),
  Command.withSubcommands([listCommand, runCommand])
)
