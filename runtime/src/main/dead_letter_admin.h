// The dead letters of a service's consumers, for operators: the
// `dead-letters` command of a generated main() and the /dead-letters route
// of its admin endpoint.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cppsvc/admin/admin_server.h"
#include "cppsvc/db/pool.h"
#include "cppsvc/impl/subscriptions.h"

namespace cppsvc::impl {

// `dead-letters list [consumer]` and `dead-letters replay <id>` (args[0] is
// "dead-letters"); prints to stdout, problems to stderr; returns the exit
// code.
int DeadLetterCommand(std::string_view service,
                      const std::vector<std::string>& args,
                      db::Pool& pool,
                      const std::vector<SubscriptionRoute>& routes);

// GET /dead-letters lists those not replayed; POST /dead-letters/<id>/replay
// replays one through the handler of the consumer that parked it.
admin::AdminServer::Reply DeadLetterRoute(db::Pool& pool,
                                          const std::vector<SubscriptionRoute>& routes,
                                          std::string_view method,
                                          std::string_view path);

}  // namespace cppsvc::impl
