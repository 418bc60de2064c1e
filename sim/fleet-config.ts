import { Either } from "effect"
import { type CustomerParams, DAY_MS, defaultCustomerParams, HOUR_MS } from "./behaviour-customer.js"
import { defaultMerchantParams, type MerchantParams } from "./behaviour-merchant.js"
import { defaultOperatorParams, type OperatorParams } from "./behaviour-operator.js"
import { formatFaults, parseFaults, type SimFaults } from "./faults.js"

/**
 * What one fleet run simulates. Everything has a limit: a typo in a flag must not ask for a million
 * kiosks or a century of days.
 */
export interface FleetConfig {
  readonly kiosks: number
  readonly merchants: number
  readonly days: number
  readonly seed: number
  readonly faults: SimFaults
  /** Regions the kiosks are spread over (one institution each); by default one per 5 kiosks, at most 20. */
  readonly regions: number
  /** Virtual time of the start: a Monday at midnight UTC, fixed so runs compare. */
  readonly startMs: number
  /** How often each kiosk reports its twin state. */
  readonly twinReportEveryMs: number
  /** Days a customer has to bring a card back; operators set it on every kiosk's twin at the start. */
  readonly returnDeadlineDays: number
  /** How long a coupon is valid from its issue (merchants' offers do not say; the catalog's default). */
  readonly couponValidityMs: number
  readonly customers: CustomerParams
  readonly operators: OperatorParams
  readonly merchantBehaviour: MerchantParams
  readonly kiosk: {
    readonly stackerCapacity: number
    readonly binCapacity: number
    readonly paperRollMm: number
  }
}

export const LIMITS = {
  kiosks: [1, 1_000],
  merchants: [1, 1_000],
  days: [1, 366],
  customersPerKioskPerDay: [0, 5_000],
  regions: [1, 100],
  seed: [0, Number.MAX_SAFE_INTEGER],
  returnDeadlineDays: [1, 365]
} as const

/** 2025-01-06T00:00:00Z, a Monday. */
export const DEFAULT_START_MS = 1_736_121_600_000

export interface FleetOptions {
  readonly kiosks: number
  readonly merchants: number
  readonly days: number
  readonly seed: number
  /** The `--faults` text: `name=value,...`. */
  readonly faults?: string
  readonly customersPerKioskPerDay?: number
  readonly regions?: number
  readonly returnDeadlineDays?: number
}

/**
 * The defaults are chosen so that a week (the run `README.md` shows) has every claim happen in it:
 * cards are due back in 3 days, so the customers who keep theirs (15%) and the late ones (10%) go
 * overdue and are charged to their phone bills (claim 11) from day 4; coupons are valid for 4 days,
 * so the unused remainders expire to the institution (claim 10) from day 5; settlement runs daily.
 */
export const DEFAULT_RETURN_DEADLINE_DAYS = 3
export const DEFAULT_COUPON_VALIDITY_DAYS = 4

export const defaultRegions = (kiosks: number): number => Math.min(20, Math.max(1, Math.round(kiosks / 5)))

/** Checks every option and says everything that is wrong at once. */
export const fleetConfig = (options: FleetOptions): Either.Either<FleetConfig, string> => {
  const problems: Array<string> = []
  const whole = (name: string, value: number, [low, high]: readonly [number, number]) => {
    if (!Number.isSafeInteger(value) || value < low || value > high) problems.push(`--${name} must be a whole number from ${low} to ${high}, got ${value}`)
  }
  whole("kiosks", options.kiosks, LIMITS.kiosks)
  whole("merchants", options.merchants, LIMITS.merchants)
  whole("days", options.days, LIMITS.days)
  whole("seed", options.seed, LIMITS.seed)
  const perDay = options.customersPerKioskPerDay ?? defaultCustomerParams.customersPerKioskPerDay
  whole("customers-per-day", perDay, LIMITS.customersPerKioskPerDay)
  const regions = options.regions ?? defaultRegions(options.kiosks)
  whole("regions", regions, LIMITS.regions)
  const returnDeadlineDays = options.returnDeadlineDays ?? DEFAULT_RETURN_DEADLINE_DAYS
  whole("return-days", returnDeadlineDays, LIMITS.returnDeadlineDays)
  if (Number.isSafeInteger(regions) && Number.isSafeInteger(options.kiosks) && options.kiosks >= 1 && regions > options.kiosks) {
    problems.push(`--regions (${regions}) cannot exceed --kiosks (${options.kiosks}): every region needs a kiosk`)
  }
  const faults = parseFaults(options.faults ?? "")
  if (Either.isLeft(faults)) problems.push(faults.left.message)
  if (problems.length > 0 || Either.isLeft(faults)) return Either.left(problems.join("\n"))
  return Either.right({
    kiosks: options.kiosks,
    merchants: options.merchants,
    days: options.days,
    seed: options.seed,
    faults: faults.right,
    regions,
    startMs: DEFAULT_START_MS,
    twinReportEveryMs: HOUR_MS,
    returnDeadlineDays,
    couponValidityMs: DEFAULT_COUPON_VALIDITY_DAYS * DAY_MS,
    customers: { ...defaultCustomerParams, customersPerKioskPerDay: perDay },
    operators: defaultOperatorParams,
    merchantBehaviour: defaultMerchantParams,
    kiosk: { stackerCapacity: 250, binCapacity: 100, paperRollMm: 80_000 }
  })
}

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? "" : "s"}`

export const describeConfig = (config: FleetConfig): string =>
  `${plural(config.kiosks, "kiosk")} in ${plural(config.regions, "region")}, ${plural(config.merchants, "merchant")}, ${plural(config.days, "day")} ` +
  `(~${config.customers.customersPerKioskPerDay} customers per kiosk per day), seed ${config.seed}` +
  (Object.keys(config.faults).length === 0 ? "" : `, faults ${formatFaults(config.faults)}`)

export const horizonMs = (config: FleetConfig): number => config.startMs + config.days * DAY_MS
