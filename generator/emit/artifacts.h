// The table of artifacts (rows in emit/artifacts.def): what --cpp-svc_opt
// emit= accepts, what Generate() runs and which files each one writes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "emit/emitters.h"

namespace cppsvc::emit {

struct Artifact {
  std::string_view name;
  void (*emit)(const EmitInput& in, Rendered& out);
  std::vector<std::string_view> outputs;  // file suffixes, in the order `emit` renders them
};

// Every artifact, in emission order.
const std::vector<Artifact>& Artifacts();
// nullptr when there is no artifact of that name.
const Artifact* FindArtifact(std::string_view name);
std::vector<std::string> ArtifactNames();

// <base of `file`><suffix of output `index` of `artifact`>: for a generated
// file that includes another one.
std::string OutputPath(const model::File& file, std::string_view artifact, size_t index);

// Runs `artifact` over `in` and appends its files to `out`, named.
void EmitArtifact(const Artifact& artifact, const EmitInput& in, std::vector<OutputFile>& out);

}  // namespace cppsvc::emit
