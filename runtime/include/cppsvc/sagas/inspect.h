// Saga instances for operators: `<binary> sagas list|show` and the admin
// endpoint's GET /sagas and /sagas/<id> (as JSON).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cppsvc/db/pool.h"

namespace cppsvc::sagas {

// Instances, newest first: {saga, id, status, state, error, created_at,
// updated_at, deadline}; `status` and `saga` filter when not empty.
nlohmann::json ListInstances(db::Pool& pool,
                             const std::string& status,
                             const std::string& saga,
                             size_t limit);
// One instance with its step history ({..., history: [{at, event, to}]});
// nullopt when there is none. `saga` narrows when ids repeat across sagas.
std::optional<nlohmann::json> ShowInstance(db::Pool& pool,
                                           const std::string& id,
                                           const std::string& saga);

}  // namespace cppsvc::sagas
