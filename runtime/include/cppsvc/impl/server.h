// For generated servers only: the contract's specs (specs.h) and the
// per-call pipeline that serves them (service_runtime.h), for code that
// includes both at once.
#pragma once

#include "cppsvc/impl/service_runtime.h"
#include "cppsvc/impl/specs.h"
