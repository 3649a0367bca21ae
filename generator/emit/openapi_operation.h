// The OpenAPI operation of an rpc with an http rule, as the gateway serves
// it: path parameters, query parameters, request body, responses, security.
#pragma once

#include <string>
#include <vector>

#include "emit/openapi_schema.h"
#include "model/model.h"

namespace cppsvc::emit::openapi {

// Path parameters, one per variable of the path, named as written (`a.b`)
// and typed by the field it binds.
Json PathParameters(Schemas& schemas, const model::Method& m);

// Query parameters: every field of the request that neither the path nor
// the body binds, named by its JSON name (fields of singular messages as
// dotted paths, `page.pageSize`); none when the body is "*". Repeated
// fields are form-style arrays (`?id=a&id=b`). Maps, repeated messages and
// free-form values have no query form and are left out.
Json QueryParameters(Schemas& schemas, const model::Method& m);

// The request body: the whole request less the fields the path binds
// (body "*"), one field (body "field"), or null (no body).
Json RequestBody(Schemas& schemas, const model::Method& m);

// The operation object of `m`, a method of `s` with an http rule.
Json Operation(Schemas& schemas, const model::Service& s, const model::Method& m);

// components/responses: the error responses operations refer to, by name.
Json ErrorResponses();
// components/schemas/Error: the JSON body of every error response.
Json ErrorSchema();

}  // namespace cppsvc::emit::openapi
