// model::Build: descriptors and cppsvc.v1 options -> the plain model. The
// only code in the plugin that reads descriptors.
#pragma once

#include <vector>

#include <google/protobuf/descriptor.h>

#include "model/model.h"

namespace cppsvc::model {

// Builds the model of `files_to_generate` and everything they import. Files
// are sorted by name, so the model does not depend on the order protoc was
// given them.
Model Build(const std::vector<const google::protobuf::FileDescriptor*>& files_to_generate);

}  // namespace cppsvc::model
