// Support for the process-level integration suites (tests/integration,
// tests/integration_db, tests/integration_events): child processes run with
// an explicit environment and their output in files, free loopback ports,
// plain HTTP/1.0 requests to an admin port, bounded polling, and PostgreSQL
// through scripts/pg.sh and direct queries.
//
// Every wait is bounded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cppsvc::process_testing {

// ---------------------------------------------------------------------------
// Time, text and files.

long long Millis(std::chrono::steady_clock::duration d);
double Seconds(std::chrono::steady_clock::duration d);

// Polls `done` every `step` until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& done,
             std::chrono::milliseconds timeout,
             std::chrono::milliseconds step = std::chrono::milliseconds(100));

// The whole file ("" when it cannot be read).
std::string ReadFile(const std::string& path);

// `s` without trailing white space.
std::string Trim(std::string s);

// The last `max_chars` characters of `text`, marked with "..." when cut.
std::string Tail(const std::string& text, size_t max_chars = 4000);

// A new directory <temp>/<prefix>-XXXXXX; "" when it cannot be made.
std::string MakeTempDir(const std::string& prefix);

// "exit code N", "killed by signal N", "still running" (no status) or
// "wait status N".
std::string DescribeWaitStatus(const std::optional<int>& status);

// "PATH=<this process's PATH>" (or a default), for a child's environment.
std::string PathVariable();

// ---------------------------------------------------------------------------
// Ports and HTTP.

// A port the kernel considers free on 127.0.0.1 right now (bound to :0, read
// back, closed). Ports handed out by this process are never handed out again;
// 0 when none is found.
uint16_t FreePort();

struct HttpResponse {
  int status = 0;       // 0: no answer (see error)
  std::string headers;  // the header lines as received
  std::string body;
  std::string error;
};

// One HTTP/1.0 request, with extra header lines ("Name: value") and a
// loopback address of choice (e.g. 127.0.0.2, to reach only what listens on
// every address).
struct HttpRequest {
  std::string method = "GET";
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string path = "/";
  std::vector<std::string> headers;
  std::chrono::milliseconds timeout{3000};
};
HttpResponse Send(const HttpRequest& request);

// One HTTP/1.0 request without a body to http://127.0.0.1:<port><path> over
// a plain socket (the server closes after the answer), everything bounded by
// `timeout`.
HttpResponse Http(const std::string& method,
                  uint16_t port,
                  const std::string& path,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

// Http("GET", ...).
HttpResponse HttpGet(uint16_t port,
                     const std::string& path,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

// ---------------------------------------------------------------------------
// Processes.

// A child process run with arguments and an explicit environment; stdout and
// stderr are appended to files. Killed (SIGKILL) and reaped when destroyed,
// if still running. The child is also killed when the test process dies.
class Process {
 public:
  // The binary without arguments.
  Process(std::string binary,
          std::vector<std::string> env,
          std::string out_path,
          std::string err_path);
  // argv[0] is the binary.
  Process(std::vector<std::string> argv,
          std::vector<std::string> env,
          std::string out_path,
          std::string err_path);
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  bool Start(std::string& error);

  pid_t pid() const { return pid_; }
  bool reaped() const { return status_.has_value(); }

  // Running: started and not reaped (a zombie is reaped here and not running).
  bool Running();

  // The wait status once the process ended within `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

  // Sends `sig` while the process runs.
  void Signal(int sig);

  // SIGKILL and reap (bounded: a SIGKILLed process ends at once; a test
  // failure when it does not within 10 s).
  void Kill();

  std::string Stdout() const;
  std::string Stderr() const;
  const std::string& err_path() const { return err_path_; }

  // When Start forked the child.
  std::chrono::steady_clock::time_point started_at() const { return started_at_; }
  // When Running or Wait first saw the process ended.
  std::optional<std::chrono::steady_clock::time_point> exited_at() const { return exited_at_; }

 private:
  std::vector<std::string> argv_;
  std::vector<std::string> env_;
  std::string out_path_;
  std::string err_path_;
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::chrono::steady_clock::time_point started_at_;
  std::optional<std::chrono::steady_clock::time_point> exited_at_;
};

// Polls GET /readyz on 127.0.0.1:<admin_port> every `step` until it answers
// 200. When `process` ends first or `timeout` passes, fails the test, naming
// the process `name` (its exit, or the last /readyz answer, and the tail of
// its stderr), and returns false.
bool WaitReady(Process& process,
               uint16_t admin_port,
               const std::string& name,
               std::chrono::milliseconds timeout,
               std::chrono::milliseconds step = std::chrono::milliseconds(50));

// ---------------------------------------------------------------------------
// PostgreSQL through scripts/pg.sh, and direct reads of a database.

struct ScriptResult {
  int rc = -1;  // wait status of bash
  std::string out;
  std::string err;
  bool ok() const;
};

// bash scripts/pg.sh <args...> (arguments single-quoted); stdout (trimmed)
// and stderr captured through <scratch>.out and <scratch>.err, which are
// removed afterwards.
ScriptResult PgScript(const std::vector<std::string>& args, const std::string& scratch);

// The rows of `sql` on a connection of its own, every field as text ("" for
// NULL). Throws what libpqxx throws.
std::vector<std::vector<std::string>> QueryRows(const std::string& url, const std::string& sql);

// The first field of the first row of `sql` as an integer. Throws when the
// query fails, returns no row or a field that is not a number.
long long QueryInt(const std::string& url, const std::string& sql);

// Like QueryInt, but -1 instead of an exception (e.g. while the table does
// not exist yet) and for no row or a NULL.
long long TryQueryInt(const std::string& url, const std::string& sql);

}  // namespace cppsvc::process_testing
