// Plugs the handlers into the generated main() of orders_service.
#include "cppsvc/register.h"
#include "orders/orders_service.h"

CPPSVC_REGISTER_HANDLERS(commerce::orders::v1::OrdersServiceBase, orders::OrdersService);
