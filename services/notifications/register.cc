// Plugs the handlers into the generated main() of notifications_service.
#include "cppsvc/register.h"
#include "notifications/notifications_service.h"

CPPSVC_REGISTER_HANDLERS(commerce::notifications::v1::NotificationsServiceBase,
                         notifications::NotificationsService);
