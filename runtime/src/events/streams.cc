// EnsureStreams: one JetStream stream per bounded context, created or
// brought to the contract's subjects and duplicate window.
#include <algorithm>
#include <stdexcept>

#include "cppsvc/events/streams.h"
#include "nats_handle.h"

namespace cppsvc::events {

namespace {

using internal::NatsError;

int64_t WindowNanos(std::chrono::seconds window) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(window).count();
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

void EnsureStream(jsCtx* js, const StreamSpec& spec) {
  if (spec.name.empty()) throw std::runtime_error("stream without a name");
  if (spec.subjects.empty()) {
    throw std::runtime_error("stream '" + spec.name + "': no subjects");
  }
  std::vector<const char*> subjects;
  for (const std::string& subject : spec.subjects) subjects.push_back(subject.c_str());

  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js, spec.name.c_str(), nullptr, &code);
  if (s == NATS_NOT_FOUND) {
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = spec.name.c_str();
    config.Subjects = subjects.data();
    config.SubjectsLen = static_cast<int>(subjects.size());
    config.Storage = js_FileStorage;
    config.Duplicates = WindowNanos(spec.duplicate_window);
    s = js_AddStream(nullptr, js, &config, nullptr, &code);
    if (s != NATS_OK) {
      throw std::runtime_error(NatsError("stream '" + spec.name + "': create failed", s));
    }
    return;
  }
  if (s != NATS_OK) {
    throw std::runtime_error(NatsError("stream '" + spec.name + "': lookup failed", s));
  }
  std::unique_ptr<jsStreamInfo, void (*)(jsStreamInfo*)> owned(info, jsStreamInfo_Destroy);
  jsStreamConfig* config = info->Config;
  std::vector<std::string> current(config->Subjects, config->Subjects + config->SubjectsLen);
  const bool same = Sorted(current) == Sorted(spec.subjects) &&
                    config->Duplicates == WindowNanos(spec.duplicate_window);
  if (same) return;
  // Everything else the operator may have tuned (limits, replicas) stays.
  const char** old_subjects = config->Subjects;
  const int old_len = config->SubjectsLen;
  config->Subjects = subjects.data();
  config->SubjectsLen = static_cast<int>(subjects.size());
  config->Duplicates = WindowNanos(spec.duplicate_window);
  s = js_UpdateStream(nullptr, js, config, nullptr, &code);
  // The info's destructor frees its own subject array.
  config->Subjects = old_subjects;
  config->SubjectsLen = old_len;
  if (s != NATS_OK) {
    throw std::runtime_error(NatsError("stream '" + spec.name + "': update failed", s));
  }
}

}  // namespace

void EnsureStreams(const std::string& nats_url, const std::vector<StreamSpec>& streams) {
  auto nats = internal::ConnectNats(nats_url, "cppsvc-streams", /*keep_trying=*/false, nullptr);
  for (const StreamSpec& spec : streams) EnsureStream(nats->js(), spec);
}

}  // namespace cppsvc::events
