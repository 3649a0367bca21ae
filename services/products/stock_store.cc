#include "products/stock_store.h"

#include <algorithm>
#include <optional>
#include <set>

#include <pqxx/pqxx>

#include "commerce/products/v1/products.cppsvc.repo.h"
#include "cppsvc/db/errors.h"
#include "cppsvc/db/statements.h"

namespace products {
namespace {

namespace v1 = commerce::products::v1;

// Two-key advisory locks ("prod", hash of the order id) live apart from the
// one-key locks of the runtime (migrations, relay leadership).
const cppsvc::db::Statement kLockOrder("products.stock.LockOrder",
                                       "SELECT pg_advisory_xact_lock(1886547812, hashtext($1))");
const cppsvc::db::Statement kLockStock("products.stock.LockStock",
                                       "SELECT stock FROM products WHERE id = $1 FOR UPDATE");
const cppsvc::db::Statement kTake(
    "products.stock.Take",
    "UPDATE products SET stock = stock - $2, updated_at = now() WHERE id = $1 AND stock >= $2");
const cppsvc::db::Statement kGiveBack(
    "products.stock.GiveBack",
    "UPDATE products SET stock = stock + $2, updated_at = now() WHERE id = $1");
const cppsvc::db::Statement kSetLineStatus(
    "products.stock.SetLineStatus",
    "UPDATE stock_reservations SET status = $3, updated_at = now()"
    " WHERE order_id = $1 AND status = $2");
const cppsvc::db::Statement kAdjust(
    "products.stock.Adjust",
    "UPDATE products SET stock = stock + $2, updated_at = now()"
    " WHERE id = $1 AND stock::bigint + $2 BETWEEN 0 AND 2147483647");

constexpr auto kHeld = v1::RESERVATION_STATUS_HELD;
constexpr auto kReleased = v1::RESERVATION_STATUS_RELEASED;
constexpr auto kRejected = v1::RESERVATION_STATUS_REJECTED;
constexpr auto kCommitted = v1::RESERVATION_STATUS_COMMITTED;

void LockOrder(cppsvc::db::Tx& tx, const std::string& order_id) {
  tx.exec_prepared(kLockOrder.name, order_id);
}

// Why `lines` cannot be an order's, or empty.
std::string Malformed(const std::vector<StockLine>& lines) {
  if (lines.empty()) return "the order has no lines";
  std::set<std::string> seen;
  for (const StockLine& line : lines) {
    if (line.quantity() < 1) {
      return "product " + line.product_id() + ": quantity " + std::to_string(line.quantity());
    }
    if (!seen.insert(line.product_id()).second) {
      return "product " + line.product_id() + " appears more than once";
    }
  }
  return {};
}

std::vector<StockLine> ById(std::vector<StockLine> lines) {
  std::sort(lines.begin(), lines.end(), [](const StockLine& a, const StockLine& b) {
    return a.product_id() < b.product_id();
  });
  return lines;
}

// Locks the product's row; whether it holds the line's quantity.
bool LockAvailable(cppsvc::db::Tx& tx, const StockLine& line) {
  pqxx::result row = tx.exec_prepared(kLockStock.name, line.product_id());
  return !row.empty() && row[0][0].as<int64_t>() >= line.quantity();
}

void TakeLine(cppsvc::db::Tx& tx, const StockLine& line) {
  if (tx.exec_prepared0(kTake.name, line.product_id(), line.quantity()).affected_rows() != 1) {
    throw std::logic_error("stock of a locked product changed");
  }
}

// Takes every line from stock, or none.
ReserveOutcome Take(cppsvc::db::Tx& tx, const std::vector<StockLine>& lines) {
  ReserveOutcome outcome;
  outcome.status = kRejected;
  outcome.reason = Malformed(lines);
  if (!outcome.reason.empty()) return outcome;
  const std::vector<StockLine> sorted = ById(lines);
  for (const StockLine& line : sorted) {
    if (!LockAvailable(tx, line)) outcome.unavailable_product_ids.push_back(line.product_id());
  }
  if (!outcome.unavailable_product_ids.empty()) {
    outcome.reason = "not enough stock for " +
                     std::to_string(outcome.unavailable_product_ids.size()) + " product(s)";
    return outcome;
  }
  for (const StockLine& line : sorted) TakeLine(tx, line);
  outcome.status = kHeld;
  outcome.newly_reserved = true;
  outcome.lines = lines;
  return outcome;
}

// Every line recorded for the order, by product id.
std::vector<StockLine> LinesOf(cppsvc::db::Tx& tx, const std::string& order_id) {
  v1::StockReservationRepository reservations(tx);
  v1::StockReservationFilter filter;
  filter.order_id = order_id;
  std::vector<StockLine> lines;
  std::string token;
  do {
    auto page = reservations.List(filter, 1000, token);
    for (const v1::StockReservation& r : page.rows) {
      StockLine& line = lines.emplace_back();
      line.set_product_id(r.product_id());
      line.set_quantity(r.quantity());
    }
    token = page.next_page_token;
  } while (!token.empty());
  return ById(std::move(lines));
}

void InsertLines(cppsvc::db::Tx& tx,
                 const std::string& order_id,
                 const std::vector<StockLine>& lines) {
  std::vector<v1::StockReservation> rows;
  for (const StockLine& line : lines) {
    v1::StockReservation& row = rows.emplace_back();
    row.set_order_id(order_id);
    row.set_product_id(line.product_id());
    row.set_quantity(line.quantity());
    row.set_status(kHeld);
  }
  v1::StockReservationRepository(tx).BulkInsert(rows);
}

ReserveOutcome KnownOutcome(cppsvc::db::Tx& tx, const v1::StockOrder& order) {
  ReserveOutcome outcome;
  outcome.status = order.status();
  outcome.unavailable_product_ids.assign(order.unavailable_product_ids().begin(),
                                         order.unavailable_product_ids().end());
  outcome.reason = order.reason();
  if (outcome.reserved()) outcome.lines = LinesOf(tx, order.order_id());
  return outcome;
}

v1::StockOrder OrderRow(const std::string& order_id, const ReserveOutcome& outcome) {
  v1::StockOrder row;
  row.set_order_id(order_id);
  row.set_status(outcome.status);
  for (const std::string& id : outcome.unavailable_product_ids) row.add_unavailable_product_ids(id);
  row.set_reason(outcome.reason);
  return row;
}

int SetLineStatus(cppsvc::db::Tx& tx,
                  const std::string& order_id,
                  ReservationStatus from,
                  ReservationStatus to) {
  return static_cast<int>(
      tx.exec_prepared0(kSetLineStatus.name, order_id, static_cast<int>(from), static_cast<int>(to))
          .affected_rows());
}

}  // namespace

bool ReserveOutcome::reserved() const {
  return status == kHeld || status == kCommitted;
}

ReserveOutcome StockStore::Reserve(cppsvc::db::Tx& tx,
                                   const std::string& order_id,
                                   const std::vector<StockLine>& lines) const {
  LockOrder(tx, order_id);
  v1::StockOrderRepository orders(tx);
  if (std::optional<v1::StockOrder> known = orders.Find(order_id)) return KnownOutcome(tx, *known);
  ReserveOutcome outcome = Take(tx, lines);
  v1::StockOrder row = OrderRow(order_id, outcome);
  orders.Insert(row);
  if (outcome.newly_reserved) InsertLines(tx, order_id, outcome.lines);
  return outcome;
}

ReleaseOutcome StockStore::Release(cppsvc::db::Tx& tx, const std::string& order_id) const {
  LockOrder(tx, order_id);
  v1::StockOrderRepository orders(tx);
  std::optional<v1::StockOrder> known = orders.Find(order_id);
  if (!known) {
    ReserveOutcome never;
    never.status = kReleased;
    never.reason = "released before it was reserved";
    v1::StockOrder row = OrderRow(order_id, never);
    orders.Insert(row);
    return {kReleased, {}};
  }
  if (known->status() != kHeld) return {known->status(), {}};
  ReleaseOutcome outcome{kReleased, LinesOf(tx, order_id)};
  for (const StockLine& line : outcome.lines) {
    tx.exec_prepared0(kGiveBack.name, line.product_id(), line.quantity());
  }
  SetLineStatus(tx, order_id, kHeld, kReleased);
  known->set_status(kReleased);
  orders.Update(*known);
  return outcome;
}

CommitOutcome StockStore::Commit(cppsvc::db::Tx& tx, const std::string& order_id) const {
  LockOrder(tx, order_id);
  v1::StockOrderRepository orders(tx);
  std::optional<v1::StockOrder> known = orders.Find(order_id);
  if (!known) return {};
  if (known->status() != kHeld) return {known->status(), 0};
  CommitOutcome outcome{kCommitted, SetLineStatus(tx, order_id, kHeld, kCommitted)};
  known->set_status(kCommitted);
  orders.Update(*known);
  return outcome;
}

bool StockStore::Adjust(cppsvc::db::Tx& tx, const std::string& product_id, int32_t delta) const {
  if (tx.exec_prepared0(kAdjust.name, product_id, delta).affected_rows() == 1) return true;
  if (!v1::ProductRepository(tx).Find(product_id)) {
    throw cppsvc::db::NotFound("product " + product_id + " does not exist");
  }
  return false;
}

}  // namespace products
