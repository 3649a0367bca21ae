// Plugs the handlers into the generated main() of products_service.
#include "cppsvc/register.h"
#include "products/products_service.h"

CPPSVC_REGISTER_HANDLERS(commerce::products::v1::ProductsServiceBase, products::ProductsService);
