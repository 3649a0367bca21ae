#include "emit/artifacts.h"

#include <stdexcept>

#include "emit/migrations.h"

namespace cppsvc::emit {

const std::vector<Artifact>& Artifacts() {
  // The third column is for the CMake function only.
#define CPPSVC_ARTIFACT(name, emit, sources_for, ...) {#name, emit, {__VA_ARGS__}},
  static const std::vector<Artifact> kArtifacts = {
#include "emit/artifacts.def"
  };
#undef CPPSVC_ARTIFACT
  return kArtifacts;
}

const Artifact* FindArtifact(std::string_view name) {
  for (const Artifact& a : Artifacts()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::vector<std::string> ArtifactNames() {
  std::vector<std::string> names;
  for (const Artifact& a : Artifacts()) names.emplace_back(a.name);
  return names;
}

std::string OutputPath(const model::File& file, std::string_view artifact, size_t index) {
  return file.base + std::string(FindArtifact(artifact)->outputs.at(index));
}

void EmitArtifact(const Artifact& artifact, const EmitInput& in, std::vector<OutputFile>& out) {
  Rendered rendered;
  artifact.emit(in, rendered);
  if (rendered.outputs.size() != artifact.outputs.size()) {
    throw std::logic_error("artifact " + std::string(artifact.name) + " rendered " +
                           std::to_string(rendered.outputs.size()) + " files, its row lists " +
                           std::to_string(artifact.outputs.size()));
  }
  for (size_t i = 0; i < artifact.outputs.size(); ++i) {
    out.push_back(
        {in.file.base + std::string(artifact.outputs[i]), std::move(rendered.outputs[i])});
  }
  for (OutputFile& f : rendered.extra) out.push_back(std::move(f));
}

}  // namespace cppsvc::emit
