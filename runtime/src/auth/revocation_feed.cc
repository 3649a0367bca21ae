#include "cppsvc/auth/revocation_feed.h"

#include <future>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "cppsvc/observability/log.h"

namespace cppsvc::auth {
namespace {

using google::protobuf::internal::WireFormatLite;
using SysClock = std::chrono::system_clock;

google::protobuf::Timestamp ToTimestamp(SysClock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  google::protobuf::Timestamp ts;
  int64_t secs = ns / 1000000000;
  int64_t nanos = ns % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --secs;
  }
  ts.set_seconds(secs);
  ts.set_nanos(static_cast<int32_t>(nanos));
  return ts;
}

SysClock::time_point FromTimestamp(const google::protobuf::Timestamp& ts) {
  return SysClock::time_point(std::chrono::duration_cast<SysClock::duration>(
      std::chrono::seconds(ts.seconds()) + std::chrono::nanoseconds(ts.nanos())));
}

}  // namespace

std::string EncodeRevokedAfter(std::optional<SysClock::time_point> after) {
  std::string out;
  if (!after) return out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  const std::string ts = ToTimestamp(*after).SerializeAsString();
  WireFormatLite::WriteBytes(1, ts, &coded);
  coded.Trim();
  return out;
}

bool DecodeRevokedTokens(const std::string& bytes,
                         std::vector<std::string>& jtis,
                         std::optional<SysClock::time_point>& as_of) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  for (;;) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0)
      return in.ConsumedEntireMessage() || in.CurrentPosition() == static_cast<int>(bytes.size());
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    const auto type = WireFormatLite::GetTagWireType(tag);
    if (field == 1 && type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      std::string jti;
      if (!WireFormatLite::ReadString(&in, &jti)) return false;
      jtis.push_back(std::move(jti));
    } else if (field == 2 && type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      std::string raw;
      if (!WireFormatLite::ReadBytes(&in, &raw)) return false;
      google::protobuf::Timestamp ts;
      if (!ts.ParseFromString(raw)) return false;
      as_of = FromTimestamp(ts);
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
}

struct RevocationFeed::Impl {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::GenericStub> stub;
  prometheus::Gauge* stale = nullptr;
  prometheus::Counter* outages = nullptr;
};

RevocationFeed::RevocationFeed(RevocationFeedOptions options, std::shared_ptr<RevocationList> list)
    : options_(std::move(options)), list_(std::move(list)), impl_(std::make_unique<Impl>()) {
  impl_->channel = grpc::CreateChannel(options_.target, grpc::InsecureChannelCredentials());
  impl_->stub = std::make_unique<grpc::GenericStub>(impl_->channel);
  if (options_.metrics) {
    auto& registry = options_.metrics->registry();
    const std::map<std::string, std::string> labels{{"service", options_.service}};
    impl_->stale = &prometheus::BuildGauge()
                        .Name("cppsvc_revocation_stale")
                        .Help("1 while the revocation list has gone too long without a good fetch")
                        .Register(registry)
                        .Add(labels);
    impl_->outages = &prometheus::BuildCounter()
                          .Name("cppsvc_revocation_stale_total")
                          .Help("Times the revocation list went stale")
                          .Register(registry)
                          .Add(labels);
  }
}

RevocationFeed::~RevocationFeed() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status RevocationFeed::PollOnce(bool full) {
  const bool whole = full || !as_of_;
  const std::string request = EncodeRevokedAfter(whole ? std::nullopt : as_of_);
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  grpc::ClientContext context;
  context.set_deadline(SysClock::now() + options_.timeout);
  if (!options_.bearer_token.empty())
    context.AddMetadata("authorization", "Bearer " + options_.bearer_token);
  std::promise<grpc::Status> done;
  impl_->stub->UnaryCall(&context,
                         options_.method,
                         grpc::StubOptions(),
                         &request_buffer,
                         &response_buffer,
                         [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) {
    return Status(static_cast<StatusCode>(status.error_code()),
                  "revocation feed: " + status.error_message());
  }
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (!response_buffer.Dump(&slices).ok())
    return Status::Internal("revocation feed: unreadable response");
  for (const grpc::Slice& s : slices)
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  std::vector<std::string> jtis;
  std::optional<SysClock::time_point> as_of;
  if (!DecodeRevokedTokens(bytes, jtis, as_of))
    return Status::Internal("revocation feed: malformed response");
  if (whole) {
    list_->Replace(std::set<std::string>(jtis.begin(), jtis.end()));
    last_full_ = std::chrono::steady_clock::now();
  } else {
    for (const std::string& jti : jtis) list_->Revoke(jti);
  }
  // Without as_of from the server, the next poll is a full one again.
  as_of_ = as_of;
  last_good_ = std::chrono::steady_clock::now();
  last_good_wall_ = SysClock::now();
  successes_.fetch_add(1);
  return Status::Ok();
}

void RevocationFeed::CheckStaleness(std::chrono::steady_clock::time_point started) {
  if (options_.max_staleness.count() <= 0) return;
  if (!started_wall_) started_wall_ = SysClock::now();
  const bool fetched = successes_.load() > 0;
  const auto since = fetched ? last_good_ : started;
  const bool stale = std::chrono::steady_clock::now() - since > options_.max_staleness;
  if (stale == list_->stale()) return;
  if (stale) {
    const SysClock::time_point fresh_as_of = fetched ? last_good_wall_ : *started_wall_;
    list_->Stale(fresh_as_of, options_.refuse_all_when_stale);
    observability::LogJson(
        {{"level", "error"},
         {"msg", "revocation list stale"},
         {"service", options_.service},
         {"refusing",
          options_.refuse_all_when_stale ? "every token"
                                         : "tokens issued before the last good fetch"},
         {"max_staleness_ms", static_cast<int64_t>(options_.max_staleness.count())}});
    if (impl_->outages != nullptr) impl_->outages->Increment();
  } else {
    list_->Fresh();
    observability::LogJson(
        {{"level", "info"}, {"msg", "revocation list fresh again"}, {"service", options_.service}});
  }
  if (impl_->stale != nullptr) impl_->stale->Set(stale ? 1 : 0);
}

void RevocationFeed::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void RevocationFeed::Loop() {
  const auto started = std::chrono::steady_clock::now();
  bool failing = false;
  for (;;) {
    const bool full = std::chrono::steady_clock::now() - last_full_ >= options_.full_refresh;
    Status s = PollOnce(full);
    if (!s.ok() && !failing) {
      observability::LogJson(
          {{"level", "warn"}, {"msg", "revocation feed failed"}, {"error", s.ToString()}});
    } else if (s.ok() && failing) {
      observability::LogJson({{"level", "info"}, {"msg", "revocation feed recovered"}});
    }
    failing = !s.ok();
    CheckStaleness(started);
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, options_.interval, [this] { return stopping_; })) return;
  }
}

}  // namespace cppsvc::auth
