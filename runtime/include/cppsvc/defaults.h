// What a contract gets when it leaves a setting unset. The generator writes
// these into generated code and the runtime uses them for specs built by
// hand, so both must read them from here: a second copy would drift.
#pragma once

#include <chrono>
#include <cstdint>

namespace cppsvc {

// How a service answers a call on a resource of another user (the
// contract's foreign_resources).
enum class ForeignResources { kNotFound, kPermissionDenied };

}  // namespace cppsvc

namespace cppsvc::defaults {

// Deadline of an RPC without timeout_ms on the method or default_timeout_ms on
// the service.
inline constexpr std::chrono::milliseconds kRpcTimeout{5000};

// Ports of a service annotation that sets none (one service per host or
// container).
inline constexpr uint32_t kGrpcPort = 50051;
inline constexpr uint32_t kAdminPort = 9090;

// Client retries of idempotent RPCs, field by field of a retry policy.
inline constexpr int kRetryMaxAttempts = 3;  // including the first
inline constexpr std::chrono::milliseconds kRetryInitialBackoff{50};
inline constexpr std::chrono::milliseconds kRetryMaxBackoff{2000};
inline constexpr double kRetryMultiplier = 2.0;

// Event consumers: deliveries before a dead letter, and how long a delivery
// may stay unacknowledged before it is redelivered.
inline constexpr int kMaxDeliver = 5;
inline constexpr std::chrono::milliseconds kAckWait{30000};

// Another user's resource looks missing, so an outsider cannot probe ids.
inline constexpr ForeignResources kForeignResources = ForeignResources::kNotFound;

}  // namespace cppsvc::defaults
