import { Layer } from "effect"
import { Auditor } from "./audit.js"
import { CardCharges } from "./cards-charge.js"
import { Cards } from "./cards.js"
import { Catalog } from "./catalog.js"
import { Coupons } from "./coupons.js"
import { FleetOverviews } from "./fleet-overview.js"
import { Housekeeping } from "./housekeeping.js"
import { Institutions } from "./institutions.js"
import { Kiosks } from "./kiosks.js"
import { Ledger } from "./ledger.js"
import { Merchants } from "./merchants.js"
import { OrderFlowHandlers } from "./orders-outbox.js"
import { Orders } from "./orders.js"
import { Outbox } from "./outbox.js"
import { Redemptions } from "./redemption.js"
import { Regions } from "./regions.js"
import { Settlements } from "./settlement.js"
import { KioskTwins } from "./twin.js"
import { Users } from "./users.js"

/**
 * Every core service over one `SqlClient`, built once: what a process that runs the whole core (the
 * simulator, the management server, core's own tests) provides. Merchants and Catalog come from the
 * same build, so they share one stream of catalog changes.
 */
export const CoreServicesLive = Layer.mergeAll(
  Users.Default,
  Orders.Default,
  Cards.Default,
  CardCharges.Default,
  Coupons.Default,
  Catalog.Default,
  Merchants.Default,
  Kiosks.Default,
  KioskTwins.Default,
  Regions.Default,
  Institutions.Default,
  Redemptions.Default,
  Settlements.Default,
  Ledger.Default,
  Outbox.Default,
  OrderFlowHandlers.Default,
  Auditor.Default,
  FleetOverviews.Default,
  Housekeeping.Default
)

export type CoreServices = Layer.Layer.Success<typeof CoreServicesLive>
