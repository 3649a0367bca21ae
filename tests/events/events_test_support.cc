#include "events_test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <thread>

#include "process_testing.h"

#ifndef CPPSVC_TEST_NATS_ROOT
#error "CPPSVC_TEST_NATS_ROOT must name a directory for the tests' nats-servers"
#endif

namespace cppsvc::events::testing {

namespace {

using process_testing::FreePort;
using process_testing::ReadFile;

std::string FindNatsServer() {
  if (const char* env = std::getenv("NATS_SERVER"); env != nullptr && *env != '\0') return env;
  for (const char* candidate :
       {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"}) {
    if (access(candidate, X_OK) == 0) return candidate;
  }
  return "";
}

// The server greets every client with INFO once it accepts connections.
bool Greets(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    timeval tv{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[4];
    ok = recv(fd, buf, sizeof(buf), MSG_WAITALL) == 4 && std::string(buf, 4) == "INFO";
  }
  close(fd);
  return ok;
}

struct Js {
  natsConnection* conn = nullptr;
  jsCtx* js = nullptr;
  explicit Js(const std::string& url) {
    if (natsConnection_ConnectTo(&conn, url.c_str()) != NATS_OK) {
      conn = nullptr;
      return;
    }
    if (natsConnection_JetStream(&js, conn, nullptr) != NATS_OK) js = nullptr;
  }
  ~Js() {
    if (js != nullptr) jsCtx_Destroy(js);
    if (conn != nullptr) natsConnection_Destroy(conn);
  }
};

}  // namespace

NatsServer::NatsServer(const std::string& name)
    : dir_(std::string(CPPSVC_TEST_NATS_ROOT) + "/" + name + "-" + std::to_string(getpid())) {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  std::filesystem::create_directories(dir_ + "/js");
}

NatsServer::~NatsServer() {
  Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void NatsServer::Start() {
  const std::string binary = FindNatsServer();
  if (binary.empty()) GTEST_SKIP() << "nats-server is not installed (scripts/install-deps.sh)";
  if (port_ == 0) port_ = FreePort();
  ASSERT_NE(port_, 0);
  const std::string port = std::to_string(port_);
  const std::string store = dir_ + "/js";
  const std::string log = dir_ + "/nats.log";
  pid_ = fork();
  ASSERT_GE(pid_, 0);
  if (pid_ == 0) {
    const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(out, 1);
    dup2(out, 2);
    execl(binary.c_str(),
          binary.c_str(),
          "-a",
          "127.0.0.1",
          "-p",
          port.c_str(),
          "-js",
          "-sd",
          store.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  url_ = "nats://127.0.0.1:" + port;
  for (int i = 0; i < 200; ++i) {
    if (Greets(port_)) return;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL() << "nats-server exited: " << ReadFile(log);
    }
    std::this_thread::sleep_for(50ms);
  }
  FAIL() << "nats-server did not accept connections within 10 s: " << ReadFile(log);
}

void NatsServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(50ms);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

std::vector<Received> ReadStream(const std::string& nats_url,
                                 const std::string& stream,
                                 size_t max) {
  std::vector<Received> out;
  Js js(nats_url);
  if (js.js == nullptr) return out;
  jsStreamInfo* info = nullptr;
  if (js_GetStreamInfo(&info, js.js, stream.c_str(), nullptr, nullptr) != NATS_OK) return out;
  const uint64_t first = info->State.FirstSeq;
  const uint64_t last = info->State.LastSeq;
  jsStreamInfo_Destroy(info);
  for (uint64_t seq = first; seq != 0 && seq <= last && out.size() < max; ++seq) {
    natsMsg* msg = nullptr;
    if (js_GetMsg(&msg, js.js, stream.c_str(), seq, nullptr, nullptr) != NATS_OK) continue;
    Received r;
    r.subject = natsMsg_GetSubject(msg);
    r.payload.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    const char** keys = nullptr;
    int count = 0;
    if (natsMsgHeader_Keys(msg, &keys, &count) == NATS_OK) {
      for (int i = 0; i < count; ++i) {
        const char* value = nullptr;
        if (natsMsgHeader_Get(msg, keys[i], &value) == NATS_OK) r.headers[keys[i]] = value;
      }
      free(static_cast<void*>(keys));
    }
    natsMsg_Destroy(msg);
    out.push_back(std::move(r));
  }
  return out;
}

uint64_t StreamMessages(const std::string& nats_url, const std::string& stream) {
  Js js(nats_url);
  if (js.js == nullptr) return 0;
  jsStreamInfo* info = nullptr;
  if (js_GetStreamInfo(&info, js.js, stream.c_str(), nullptr, nullptr) != NATS_OK) return 0;
  const uint64_t msgs = info->State.Msgs;
  jsStreamInfo_Destroy(info);
  return msgs;
}

bool PublishSync(const std::string& nats_url,
                 const std::string& subject,
                 const std::string& id,
                 const std::string& payload) {
  Js js(nats_url);
  EXPECT_NE(js.js, nullptr);
  if (js.js == nullptr) return false;
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MsgId = id.c_str();
  jsPubAck* ack = nullptr;
  const natsStatus s = js_Publish(&ack,
                                  js.js,
                                  subject.c_str(),
                                  payload.data(),
                                  static_cast<int>(payload.size()),
                                  &options,
                                  nullptr);
  EXPECT_EQ(s, NATS_OK) << natsStatus_GetText(s);
  const bool stored = s == NATS_OK && ack != nullptr && !ack->Duplicate;
  jsPubAck_Destroy(ack);
  return stored;
}

void EventsTest::SetUp() {
  DatabaseTest::SetUp();
  if (HasFatalFailure()) return;
  Exec(db::testing::InfrastructureSql());
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  nats_ = std::make_unique<NatsServer>(std::string(test->test_suite_name()) + "." + test->name());
  nats_->Start();
}

void EventsTest::TearDown() {
  nats_.reset();
  DatabaseTest::TearDown();
}

std::shared_ptr<db::Pool> EventsTest::MakePool(size_t size) {
  db::PoolOptions options;
  options.conninfo = url();
  options.size = size;
  options.acquire_timeout = 10s;
  return std::make_shared<db::Pool>(options);
}

std::string EventsTest::Emit(db::Pool& pool,
                             const std::string& subject,
                             const std::string& payload,
                             std::map<std::string, std::string> headers) {
  std::string id;
  const Status status = db::RunInTransaction(pool, Clock::now() + 10s, [&](db::Tx& tx) {
    OutboxEvent event;
    event.subject = subject;
    event.event_type = "test.v1.Happened";
    event.payload = payload;
    event.headers = std::move(headers);
    id = AddToOutbox(tx, event);
    return Status::Ok();
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  return id;
}

double MetricValue(const observability::Metrics& metrics, const std::string& name) {
  std::istringstream lines(metrics.Serialize());
  double sum = 0;
  bool found = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + "{", 0) != 0 && line.rfind(name + " ", 0) != 0) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
    found = true;
  }
  return found ? sum : -1;
}

RelayOptions EventsTest::RelayOptionsFor() const {
  RelayOptions options;
  options.service = "test";
  options.database_url = url();
  options.nats_url = nats_->url();
  options.publish_timeout = 3s;
  options.max_backoff = 1s;
  return options;
}

}  // namespace cppsvc::events::testing
