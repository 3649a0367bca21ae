// The owner's statements on cppsvc_sagas (see templates/storage/saga_state.sql).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cppsvc/db/transaction.h"
#include "cppsvc/sagas/owner.h"

namespace cppsvc::sagas::internal {

// Inserts a new running instance with its first history entry; false when
// the instance exists already.
bool Insert(db::Tx& tx, const SagaSpec& spec, const Instance& instance, std::string_view label);
// The instance, locked for this transaction; nullopt when there is none
// (or, with skip_locked, when another transaction holds it).
std::optional<Instance> Load(db::Tx& tx,
                             const SagaSpec& spec,
                             const std::string& id,
                             bool skip_locked);
// Stores the instance's new state and appends `label` to its history;
// returns the seconds since its start.
double Update(db::Tx& tx, const SagaSpec& spec, const Instance& instance, std::string_view label);
// Ids of running instances past their deadline, locked (SKIP LOCKED).
std::vector<std::string> ClaimExpired(db::Tx& tx, const SagaSpec& spec, int limit);
// Instances not in an end state, by state name.
std::map<std::string, double> CountInFlight(db::Tx& tx, const SagaSpec& spec);

}  // namespace cppsvc::sagas::internal
