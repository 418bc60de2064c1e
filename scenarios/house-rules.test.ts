import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative, resolve, sep } from "node:path"
import { describe, expect, it } from "vitest"

/**
 * DESIGN §3: the folders are layers of a house, and each may import only what the table allows.
 * This test reads every import (static, dynamic, side-effect and `export ... from`) of every
 * TypeScript file and fails on one that crosses a wall, naming the file and the import.
 */
const root = resolve(import.meta.dirname, "..")
const folders = ["core", "sim", "hil", "adapters", "scenarios"] as const
type Folder = (typeof folders)[number]

const allowedFolders: Record<Folder, ReadonlyArray<string>> = {
  core: [],
  sim: ["core", "adapters/store"],
  hil: ["core"],
  adapters: ["core"],
  scenarios: ["core", "sim", "hil", "adapters"]
}
// The CLI is the composition root: it alone may wire the simulator, the hardware drivers and the
// scenario runner (`ecoupon scenarios`, issue 11) in.
const compositionRoot = "adapters/cli/"
// Core's own tests need a real database to run against; they may use the store, and nothing else.
const coreTestFixtures = ["adapters/store"]
const corePackages = new Set(["effect", "@effect/sql"])
const coreTestPackages = new Set(["vitest", "@effect/vitest", "fast-check", "node:assert"])

const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (name === "node_modules" || name.startsWith(".")) return []
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith(".ts") ? [path] : []
  })

const importsOf = (source: string): Array<string> => {
  const patterns = [
    /(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']/g,
    /import\s*\(\s*["']([^"']+)["']\s*\)/g,
    /import\s+["']([^"']+)["']/g
  ]
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1] ?? ""))
}

const packageName = (specifier: string) => {
  const parts = specifier.split("/")
  return specifier.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? specifier)
}

const under = (path: string, prefixes: ReadonlyArray<string>) =>
  prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))

/** The walls one file crosses. `fromPath` is relative to the root, with forward slashes. */
export const crossings = (fromPath: string, source: string): Array<string> => {
  const folder = fromPath.split("/")[0] as Folder
  const isTest = fromPath.endsWith(".test.ts")
  const found: Array<string> = []
  for (const specifier of importsOf(source)) {
    if (specifier.startsWith(".")) {
      const target = join(fromPath, "..", specifier).split(sep).join("/")
      const targetFolder = target.split("/")[0] ?? ""
      if (targetFolder === folder) continue
      const ok =
        under(target, allowedFolders[folder]) ||
        (fromPath.startsWith(compositionRoot) && (targetFolder === "sim" || targetFolder === "hil" || targetFolder === "scenarios")) ||
        (folder === "core" && isTest && under(target, coreTestFixtures))
      if (!ok) found.push(`${fromPath} imports ${specifier} (${folder}/ may not import ${targetFolder}/)`)
    } else if (folder === "core") {
      const pkg = packageName(specifier)
      if (!(corePackages.has(pkg) || (isTest && coreTestPackages.has(pkg)))) {
        found.push(`${fromPath} imports package ${pkg} (core/ may import only effect and @effect/sql)`)
      }
    }
  }
  return found
}

describe("house rules (DESIGN §3)", () => {
  it("no folder imports across a wall of the house", () => {
    const found = folders.flatMap((folder) =>
      // This file quotes forbidden imports as test data, so it is the one file not read.
      filesUnder(join(root, folder)).filter((file) => file !== import.meta.filename).flatMap((file) =>
        crossings(relative(root, file).split(sep).join("/"), readFileSync(file, "utf8"))
      )
    )
    expect(found).toEqual([])
  })

  it("catches core importing a sibling folder or a package, in every import form", () => {
    const source = [
      `import { fleet } from "../../sim/fleet.js"`,
      `export * from "../../hil/codec.js"`,
      `const m = await import("../../adapters/cli/main.js")`,
      `import "../../scenarios/setup.js"`,
      `import { readFile } from "node:fs"`,
      `import { Effect } from "effect"`,
      `import { Ledger } from "../ledger.js"`
    ].join("\n")
    expect(crossings("core/services/orders.ts", source).sort()).toEqual(
      [
        "core/services/orders.ts imports ../../sim/fleet.js (core/ may not import sim/)",
        "core/services/orders.ts imports ../../hil/codec.js (core/ may not import hil/)",
        "core/services/orders.ts imports ../../adapters/cli/main.js (core/ may not import adapters/)",
        "core/services/orders.ts imports ../../scenarios/setup.js (core/ may not import scenarios/)",
        "core/services/orders.ts imports package node:fs (core/ may import only effect and @effect/sql)"
      ].sort()
    )
  })

  it("lets the CLI compose sim and hil, and lets hil reach only core", () => {
    expect(crossings("adapters/cli/main.ts", `import { x } from "../../sim/fleet.js"`)).toEqual([])
    expect(crossings("hil/driver.ts", `import { x } from "../sim/fleet.js"`)).toEqual([
      "hil/driver.ts imports ../sim/fleet.js (hil/ may not import sim/)"
    ])
    expect(crossings("core/ledger.test.ts", `import { x } from "../adapters/store/sqljs.js"`)).toEqual([])
  })
})
