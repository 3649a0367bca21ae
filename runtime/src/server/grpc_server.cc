#include "cppsvc/impl/grpc_server.h"

namespace cppsvc::impl {

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), status.message());
}

Status FromGrpcStatus(const grpc::Status& status) {
  return Status(static_cast<StatusCode>(status.error_code()), status.error_message());
}

std::optional<std::string_view> GrpcCall::Metadata(std::string_view key) const {
  const auto& metadata = context_->client_metadata();
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return std::nullopt;
  return std::string_view(it->second.data(), it->second.size());
}

std::optional<Clock::time_point> GrpcCall::Deadline() const {
  auto deadline = context_->deadline();
  // gRPC reports "no deadline" as the largest time point. Anything within a
  // century of it counts as none, without reading the clock.
  constexpr auto kNoDeadline =
      std::chrono::system_clock::time_point::max() - std::chrono::hours(24 * 365 * 100);
  if (deadline >= kNoDeadline) return std::nullopt;
  return std::chrono::time_point_cast<Clock::duration>(deadline);
}

}  // namespace cppsvc::impl
