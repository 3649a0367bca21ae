// Plugs the handlers into the generated main() of auth_service.
#include "cppsvc/register.h"
#include "auth/auth_service.h"

CPPSVC_REGISTER_HANDLERS(commerce::auth::v1::AuthServiceBase, auth::AuthService);
