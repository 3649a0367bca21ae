// The headers the files protoc-gen-cpp-svc writes include, precompiled once
// by run.sh for the compile-everything property test.
#include <gtest/gtest.h>

#include <grpcpp/grpcpp.h>

#include "cppsvc/auth/rbac.h"
#include "cppsvc/db/migrations.h"
#include "cppsvc/impl/client.h"
#include "cppsvc/impl/grpc_server.h"
#include "cppsvc/impl/handler_base.h"
#include "cppsvc/impl/main.h"
#include "cppsvc/impl/nats_server.h"
#include "cppsvc/impl/repository.h"
#include "cppsvc/impl/subscriptions.h"
#include "cppsvc/impl/validate.h"
#include "cppsvc/testing/access.h"
#include "cppsvc/testing/in_process_server.h"
#include "cppsvc/testing/test_database.h"
#include "cppsvc/testing/tokens.h"
