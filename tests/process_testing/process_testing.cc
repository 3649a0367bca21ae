#include "process_testing.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include <gtest/gtest.h>

#ifndef CPPSVC_PG_SCRIPT
#error "CPPSVC_PG_SCRIPT must name scripts/pg.sh"
#endif

namespace cppsvc::process_testing {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

long long Millis(SteadyClock::duration d) {
  return std::chrono::duration_cast<milliseconds>(d).count();
}

double Seconds(SteadyClock::duration d) {
  return std::chrono::duration<double>(d).count();
}

bool WaitFor(const std::function<bool()>& done, milliseconds timeout, milliseconds step) {
  const auto deadline = SteadyClock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

std::string Tail(const std::string& text, size_t max_chars) {
  return text.size() <= max_chars ? text : "..." + text.substr(text.size() - max_chars);
}

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

std::string DescribeWaitStatus(const std::optional<int>& status) {
  if (!status) return "still running";
  if (WIFEXITED(*status)) return "exit code " + std::to_string(WEXITSTATUS(*status));
  if (WIFSIGNALED(*status)) return "killed by signal " + std::to_string(WTERMSIG(*status));
  return "wait status " + std::to_string(*status);
}

std::string PathVariable() {
  const char* path = std::getenv("PATH");
  return std::string("PATH=") + (path != nullptr ? path : "/usr/bin:/bin");
}

// ---------------------------------------------------------------------------
// Ports and HTTP.

uint16_t FreePort() {
  static std::mutex mu;
  static std::set<uint16_t> given;
  std::lock_guard<std::mutex> lock(mu);
  for (int attempt = 0; attempt < 50; ++attempt) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    uint16_t port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
    close(fd);
    if (port != 0 && given.insert(port).second) return port;
  }
  return 0;
}

HttpResponse Http(const std::string& method,
                  uint16_t port,
                  const std::string& path,
                  milliseconds timeout) {
  HttpRequest request;
  request.method = method;
  request.port = port;
  request.path = path;
  request.timeout = timeout;
  return Send(request);
}

HttpResponse Send(const HttpRequest& r) {
  const milliseconds timeout = r.timeout;
  HttpResponse out;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    out.error = std::string("socket: ") + std::strerror(errno);
    return out;
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (inet_pton(AF_INET, r.host.c_str(), &addr.sin_addr) != 1) {
    out.error = "not an IPv4 address: " + r.host;
    close(fd);
    return out;
  }
  addr.sin_port = htons(r.port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    out.error = std::string("connect: ") + std::strerror(errno);
    close(fd);
    return out;
  }
  std::string request = r.method + " " + r.path + " HTTP/1.0\r\nHost: " + r.host +
                        "\r\nContent-Length: 0\r\nConnection: close\r\n";
  for (const std::string& h : r.headers) request += h + "\r\n";
  request += "\r\n";
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      out.error = std::string("send: ") + std::strerror(errno);
      close(fd);
      return out;
    }
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  const auto deadline = SteadyClock::now() + timeout;
  char buffer[8192];
  while (SteadyClock::now() < deadline) {
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      out.error = std::string("recv: ") + std::strerror(errno);
      break;
    }
    raw.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  // "HTTP/1.x NNN reason\r\n...headers...\r\n\r\nbody"
  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12) {
    if (out.error.empty()) out.error = "not an HTTP response: '" + raw.substr(0, 64) + "'";
    return out;
  }
  out.status = std::atoi(raw.c_str() + 9);
  size_t body = raw.find("\r\n\r\n");
  if (body != std::string::npos) out.body = raw.substr(body + 4);
  const size_t first_line = raw.find("\r\n");
  if (first_line < body) out.headers = raw.substr(first_line + 2, body - first_line - 2);
  return out;
}

HttpResponse HttpGet(uint16_t port, const std::string& path, milliseconds timeout) {
  return Http("GET", port, path, timeout);
}

// ---------------------------------------------------------------------------
// Processes.

Process::Process(std::string binary,
                 std::vector<std::string> env,
                 std::string out_path,
                 std::string err_path)
    : Process(std::vector<std::string>{std::move(binary)},
              std::move(env),
              std::move(out_path),
              std::move(err_path)) {}

Process::Process(std::vector<std::string> argv,
                 std::vector<std::string> env,
                 std::string out_path,
                 std::string err_path)
    : argv_(std::move(argv)),
      env_(std::move(env)),
      out_path_(std::move(out_path)),
      err_path_(std::move(err_path)) {}

Process::~Process() {
  Kill();
}

bool Process::Start(std::string& error) {
  if (argv_.empty()) {
    error = "no binary to run";
    return false;
  }
  // Everything the child needs is prepared before fork: between fork and
  // exec only async-signal-safe calls are allowed (this process has threads).
  int out_fd = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int err_fd = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0 || null_fd < 0) {
    error = std::string("open log files: ") + std::strerror(errno);
    for (int fd : {out_fd, err_fd, null_fd}) {
      if (fd >= 0) close(fd);
    }
    return false;
  }
  std::vector<char*> argv;
  for (std::string& arg : argv_) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& entry : env_) envp.push_back(entry.data());
  envp.push_back(nullptr);
  const pid_t parent = getpid();

  pid_t pid = fork();
  if (pid == 0) {
    // The child dies with the test process, even when that one is killed.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    dup2(null_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  const int fork_errno = errno;
  close(out_fd);
  close(err_fd);
  close(null_fd);
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(fork_errno);
    return false;
  }
  pid_ = pid;
  started_at_ = SteadyClock::now();
  return true;
}

bool Process::Running() {
  if (pid_ <= 0 || status_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = status;
    exited_at_ = SteadyClock::now();
  }
  return !status_;
}

std::optional<int> Process::Wait(milliseconds timeout) {
  WaitFor([this] { return !Running(); }, timeout, milliseconds(5));
  return status_;
}

void Process::Signal(int sig) {
  if (Running()) ::kill(pid_, sig);
}

void Process::Kill() {
  if (pid_ <= 0 || status_) return;
  Signal(SIGKILL);
  if (!Wait(milliseconds(10000))) {
    ADD_FAILURE() << "process " << pid_ << " did not end after SIGKILL";
  }
}

std::string Process::Stdout() const {
  return ReadFile(out_path_);
}

std::string Process::Stderr() const {
  return ReadFile(err_path_);
}

bool WaitReady(Process& process,
               uint16_t admin_port,
               const std::string& name,
               std::chrono::milliseconds timeout,
               std::chrono::milliseconds step) {
  HttpResponse last;
  const bool ready = WaitFor(
      [&] {
        if (!process.Running()) return true;
        last = HttpGet(admin_port, "/readyz", std::chrono::milliseconds(1000));
        return last.status == 200;
      },
      timeout,
      step);
  if (!process.Running()) {
    ADD_FAILURE() << name << " exited before it was ready ("
                  << DescribeWaitStatus(process.Wait(std::chrono::milliseconds(0)))
                  << "); stderr:\n"
                  << Tail(process.Stderr());
    return false;
  }
  if (!ready) {
    ADD_FAILURE() << name << " not ready within " << timeout.count()
                  << " ms (last /readyz: " << last.status << " " << last.body << last.error
                  << "); stderr:\n"
                  << Tail(process.Stderr());
  }
  return ready;
}

// ---------------------------------------------------------------------------
// PostgreSQL.

bool ScriptResult::ok() const {
  return rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

ScriptResult PgScript(const std::vector<std::string>& args, const std::string& scratch) {
  std::string command = "bash '" CPPSVC_PG_SCRIPT "'";
  for (const std::string& a : args) command += " '" + a + "'";
  const std::string out_file = scratch + ".out", err_file = scratch + ".err";
  command += " > '" + out_file + "' 2> '" + err_file + "'";
  ScriptResult result;
  result.rc = std::system(command.c_str());
  result.out = Trim(ReadFile(out_file));
  result.err = ReadFile(err_file);
  std::error_code ec;
  std::filesystem::remove(out_file, ec);
  std::filesystem::remove(err_file, ec);
  return result;
}

std::vector<std::vector<std::string>> QueryRows(const std::string& url, const std::string& sql) {
  pqxx::connection connection(url);
  pqxx::nontransaction tx(connection);
  std::vector<std::vector<std::string>> rows;
  for (const pqxx::row& row : tx.exec(sql)) {
    std::vector<std::string> fields;
    for (const pqxx::field& field : row) {
      fields.push_back(field.is_null() ? "" : field.as<std::string>());
    }
    rows.push_back(std::move(fields));
  }
  return rows;
}

long long QueryInt(const std::string& url, const std::string& sql) {
  auto rows = QueryRows(url, sql);
  if (rows.empty() || rows[0].empty()) throw std::runtime_error("no value from " + sql);
  return std::stoll(rows[0][0]);
}

long long TryQueryInt(const std::string& url, const std::string& sql) {
  try {
    auto rows = QueryRows(url, sql);
    if (rows.empty() || rows[0].empty() || rows[0][0].empty()) return -1;
    return std::stoll(rows[0][0]);
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace cppsvc::process_testing
