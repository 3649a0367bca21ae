// Plugs the handlers into the generated main() of payments_service.
#include "cppsvc/register.h"
#include "payments/payments_service.h"

CPPSVC_REGISTER_HANDLERS(commerce::payments::v1::PaymentsServiceBase, payments::PaymentsService);
