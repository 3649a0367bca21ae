// model::Check: the semantic checks of a contract, within and across files.
// Collects every problem instead of stopping at the first.
#pragma once

#include "diag/diagnostics.h"
#include "model/model.h"

namespace cppsvc::model {

// Reports problems of the files marked `generate` (imported files are only
// consulted). Never stops early: one run lists everything to fix.
void Check(const Model& model, diag::Diagnostics& diags);

}  // namespace cppsvc::model
