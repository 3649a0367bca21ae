// EnsureStreams against a real nats-server.
#include <algorithm>

#include "events_test_support.h"

namespace cppsvc::events::testing {
namespace {

struct StreamView {
  std::vector<std::string> subjects;
  int64_t duplicates_ns = 0;
  uint64_t msgs = 0;
};

StreamView Inspect(const std::string& url, const std::string& name) {
  StreamView view;
  natsConnection* conn = nullptr;
  jsCtx* js = nullptr;
  EXPECT_EQ(natsConnection_ConnectTo(&conn, url.c_str()), NATS_OK);
  EXPECT_EQ(natsConnection_JetStream(&js, conn, nullptr), NATS_OK);
  jsStreamInfo* info = nullptr;
  if (js_GetStreamInfo(&info, js, name.c_str(), nullptr, nullptr) == NATS_OK) {
    view.subjects.assign(info->Config->Subjects,
                         info->Config->Subjects + info->Config->SubjectsLen);
    std::sort(view.subjects.begin(), view.subjects.end());
    view.duplicates_ns = info->Config->Duplicates;
    view.msgs = info->State.Msgs;
    jsStreamInfo_Destroy(info);
  }
  jsCtx_Destroy(js);
  natsConnection_Destroy(conn);
  return view;
}

using Streams = EventsTest;

TEST_F(Streams, CreateIsIdempotentAndUpdatesSubjects) {
  EnsureStreams(nats_->url(), {{"ORDERS", {"orders.created"}, 60s}, {"PAYMENTS", {"payments.>"}}});
  ASSERT_TRUE(PublishSync(nats_->url(), "orders.created", "m1", "x"));
  EnsureStreams(nats_->url(), {{"ORDERS", {"orders.created"}, 60s}, {"PAYMENTS", {"payments.>"}}});
  StreamView orders = Inspect(nats_->url(), "ORDERS");
  EXPECT_EQ(orders.subjects, (std::vector<std::string>{"orders.created"}));
  EXPECT_EQ(orders.duplicates_ns, 60'000'000'000);
  EXPECT_EQ(orders.msgs, 1u);  // updating kept the stream's messages
  EXPECT_EQ(Inspect(nats_->url(), "PAYMENTS").subjects, (std::vector<std::string>{"payments.>"}));

  EnsureStreams(nats_->url(), {{"ORDERS", {"orders.created", "orders.cancelled"}, 30s}});
  orders = Inspect(nats_->url(), "ORDERS");
  EXPECT_EQ(orders.subjects, (std::vector<std::string>{"orders.cancelled", "orders.created"}));
  EXPECT_EQ(orders.duplicates_ns, 30'000'000'000);
  EXPECT_EQ(orders.msgs, 1u);
  EXPECT_TRUE(PublishSync(nats_->url(), "orders.cancelled", "m2", "y"));
  EXPECT_EQ(Inspect(nats_->url(), "ORDERS").msgs, 2u);
}

TEST_F(Streams, FailuresThrowWithTheStreamName) {
  EnsureStreams(nats_->url(), {{"A", {"shared.>"}}});
  try {
    EnsureStreams(nats_->url(), {{"B", {"shared.x"}}});  // overlaps A's subjects
    FAIL() << "an overlapping stream was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("stream 'B'"), std::string::npos) << e.what();
  }
  nats_->Stop();
  EXPECT_THROW(EnsureStreams(nats_->url(), {{"C", {"c.>"}}}), std::runtime_error);
}

}  // namespace
}  // namespace cppsvc::events::testing
