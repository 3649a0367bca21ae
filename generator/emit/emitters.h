// One emitter per artifact: each turns the model of one .proto file into view
// data and renders its template. Later artifacts plug in beside these.
#pragma once

#include <string>
#include <vector>

#include "model/model.h"

namespace cppsvc::emit {

struct OutputFile {
  std::string name;  // relative to the output directory
  std::string content;
};

// <file>.cppsvc.h: a `<Service>Base` per service, one pure virtual per RPC
// and per subscribed event.
void EmitHandlerBase(const model::Model& model, const model::File& file, std::vector<OutputFile>& out);

// <file>.cppsvc.md: RPC tables, events published and consumed, tables,
// roles, and each saga as a Mermaid diagram.
void EmitServiceDoc(const model::Model& model, const model::File& file, std::vector<OutputFile>& out);

// Short access summary of an RPC, e.g. "public" or "customer, admin".
std::string AccessSummary(const model::Service& service, const model::Method& method);

}  // namespace cppsvc::emit
