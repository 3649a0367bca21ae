// The JetStream streams events are published to, one per bounded context.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace cppsvc::events {

// One stream per bounded context (service).
struct StreamSpec {
  std::string name;                   // e.g. "ORDERS"
  std::vector<std::string> subjects;  // e.g. {"commerce.orders.>"} or exact subjects
  std::chrono::seconds duplicate_window{120};
};

// Connects, then creates each stream (file storage) or updates its subjects
// and duplicate window when they differ; other settings of an existing
// stream are kept. Throws std::runtime_error naming the stream on failure.
void EnsureStreams(const std::string& nats_url, const std::vector<StreamSpec>& streams);

}  // namespace cppsvc::events
