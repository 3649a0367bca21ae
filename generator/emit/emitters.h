// One emitter per artifact: each turns the model of one .proto file into view
// data and renders its template. emit/artifacts.def lists them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <kainjow/mustache.hpp>

#include "model/model.h"

namespace cppsvc::emit {

struct OutputFile {
  std::string name;  // relative to the output directory
  std::string content;
};

struct SchemaLock;

// What an emitter renders from: one .proto file of the model.
struct EmitInput {
  const model::Model& model;
  const model::File& file;
  const SchemaLock* lock = nullptr;  // the file's planned schema lock; null without one
  // Whether <file>.openapi.json is emitted too (the gateway's main() then
  // serves it).
  bool with_openapi = false;
  // The output directory relative to the project root (the images' build
  // context); "" when it is the root.
  std::string_view deploy_dir = {};
};

// What an emitter renders. The artifact table (emit/artifacts.def) names the
// files: outputs[i] goes to <base><the artifact's i-th suffix>, so no
// emitter spells a file name that build systems must also know.
struct Rendered {
  std::vector<std::string> outputs;
  std::vector<OutputFile> extra;  // files named by the emitter (migrations, schema locks)
};

// <file>.cppsvc.h: a `<Service>Base` per service, one pure virtual per RPC
// and per subscribed event.
void EmitHandlerBase(const EmitInput& in, Rendered& out);

// <file>.cppsvc.md: RPC tables, events published and consumed, tables,
// roles, and each saga as a Mermaid diagram.
void EmitServiceDoc(const EmitInput& in, Rendered& out);

// <file>.cppsvc.validate.{h,cc}: CppsvcValidate(message, violations) for
// every message with validation rules (directly or in the messages it holds).
void EmitValidate(const EmitInput& in, Rendered& out);
bool NeedsValidation(const model::Model& model, const std::string& message);

// <file>.cppsvc.server.{h,cc}: <Service>Server, the gRPC callback service
// running every call through the runtime's pipeline, with the contract's
// rules as MethodSpec constants.
void EmitServer(const EmitInput& in, Rendered& out);

// <file>.cppsvc.client.{h,cc}: <Service>Client, the typed client.
void EmitClient(const EmitInput& in, Rendered& out);

// <file>.cppsvc.gateway.{h,cc}: Add<Service>Routes, the HTTP/JSON routes of
// the file's services (their `http` rules) on the generated clients.
void EmitGateway(const EmitInput& in, Rendered& out);
// Whether a service has an RPC the gateway serves.
bool HasRoutes(const model::Service& service);
// The services in view of a file without services of its own that have
// routes: what its gateway serves (none: the file gets no gateway).
std::vector<const model::Service*> GatewayBackends(const model::Model& model,
                                                   const model::File& file);

// <file>.cppsvc.main.cc: main() running the file's service(s), or, for a
// file without services that imports services with HTTP routes publicly,
// the HTTP/JSON gateway of those. Not part of the contract library:
// cppsvc_add_service() builds it into an executable.
void EmitMain(const EmitInput& in, Rendered& out);

// <file>.cppsvc_test.cc: GoogleTest contract suites (access matrix,
// ownership, validation edges); cppsvc_add_contract_tests() builds them.
void EmitContractTest(const EmitInput& in, Rendered& out);

// <file>.cppsvc.repo.{h,cc}: a <Message>Repository per table message, on a
// transaction, with prepared statements only (always written, empty for a
// file without tables, so build systems know the names up front).
void EmitRepository(const EmitInput& in, Rendered& out);

// Every role of the system, sorted by name: role (a C++ literal), includes
// (each a role), bypass_ownership; templates/server/role_spec.mustache
// writes it as a ::cppsvc::auth::RoleSpec.
kainjow::mustache::data RoleViews(const model::Model& model);

// <file>.openapi.json: the OpenAPI 3.0 document of the routes (rpcs with an
// http rule) of the file's services and of the files it imports publicly.
void EmitOpenApi(const EmitInput& in, Rendered& out);

// <file>.cppsvc.deploy/Dockerfile (and its .dockerignore): the image of
// the file's service binary.
void EmitDockerfile(const EmitInput& in, Rendered& out);

// <file>.cppsvc.deploy/k8s/: a Kustomize base running each service of the
// file.
void EmitKubernetes(const EmitInput& in, Rendered& out);

// compose.yaml in the directory holding every generated file with a
// service, written once (with the first of those files): the whole system.
void EmitCompose(const EmitInput& in, Rendered& out);

// View data every per-file C++ artifact starts from: source, base,
// has_services, and the namespace (opened only when the file has services).
kainjow::mustache::data ServiceFileView(const model::File& file);

}  // namespace cppsvc::emit
