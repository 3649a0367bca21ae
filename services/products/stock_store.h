// Stock and its reservations per order, in PostgreSQL (tables products,
// stock_orders, stock_reservations), inside the caller's transaction.
//
// Every function is idempotent per order: the order's row in stock_orders
// records its outcome, and an advisory lock on the order id serializes
// concurrent calls for one order. Products are locked in id order before
// their stock is checked and moved, so concurrent orders never oversell
// and never deadlock on each other; stock never goes below 0.
#pragma once

#include <string>
#include <vector>

#include "commerce/products/v1/products.pb.h"
#include "cppsvc/db/transaction.h"

namespace products {

using commerce::products::v1::ReservationStatus;
using commerce::products::v1::StockLine;

struct ReserveOutcome {
  // The order's state after the call: HELD or COMMITTED (its lines are
  // taken from stock), REJECTED (nothing is held) or RELEASED.
  ReservationStatus status = commerce::products::v1::RESERVATION_STATUS_UNSPECIFIED;
  bool newly_reserved = false;                       // this call took the stock
  std::vector<StockLine> lines;                      // when held or committed
  std::vector<std::string> unavailable_product_ids;  // when rejected for stock
  std::string reason;                                // when rejected

  bool reserved() const;
};

struct ReleaseOutcome {
  // The order's state after the call; UNSPECIFIED never (a release of an
  // unknown order records it as RELEASED).
  ReservationStatus status = commerce::products::v1::RESERVATION_STATUS_UNSPECIFIED;
  std::vector<StockLine> lines;  // returned to stock by this call
};

struct CommitOutcome {
  // COMMITTED, or the state that prevented it (UNSPECIFIED: no such order).
  ReservationStatus status = commerce::products::v1::RESERVATION_STATUS_UNSPECIFIED;
  int committed_count = 0;  // lines committed by this call
};

class StockStore {
 public:
  // Takes every line from stock for the order, or none: then the order is
  // REJECTED, listing the products short of stock or not in the catalog
  // (lines naming a product twice or with a quantity below 1 reject it too,
  // with a reason). An order seen before gets its first outcome again.
  ReserveOutcome Reserve(cppsvc::db::Tx& tx,
                         const std::string& order_id,
                         const std::vector<StockLine>& lines) const;

  // Returns the units held for the order to stock (lines of products deleted
  // since are dropped). An order never reserved is recorded as RELEASED, so
  // that a reservation arriving later is refused. Committed or rejected
  // orders are left as they are.
  ReleaseOutcome Release(cppsvc::db::Tx& tx, const std::string& order_id) const;

  // Marks the units held for the order as sold; they no longer go back.
  CommitOutcome Commit(cppsvc::db::Tx& tx, const std::string& order_id) const;

  // Adds `delta` to a product's stock (also negative); false, changing
  // nothing, when the stock would leave [0, 2^31). Throws
  // cppsvc::db::NotFound.
  bool Adjust(cppsvc::db::Tx& tx, const std::string& product_id, int32_t delta) const;
};

}  // namespace products
