// What must be unique across the whole system: service names, databases,
// ports, event subjects, tables and sagas. The first declaration (in file
// order) keeps the name; later ones are reported.

#include "model/checker.h"

namespace cppsvc::model::checks {
namespace {

std::string Where(const Span& s) {
  return s.file + ":" + std::to_string(s.line);
}

}  // namespace

void Checker::CheckGlobalUniqueness() {
  CheckServicesUnique();
  CheckStreamsUnique();
  CheckEventsAndTablesUnique();
  CheckSagasUnique();
}

void Checker::CheckServicesUnique() {
  std::map<std::string, const Service*> names, databases;
  std::map<uint32_t, const Service*> ports;
  for (const File& file : model_.files) {
    for (const Service& s : file.services) {
      const Span& span = s.has_options ? s.option_span : s.span;
      std::string what = "service " + Quote(s.name);
      if (auto [it, ok] = names.emplace(s.short_name, &s); !ok) {
        Error(At(span, {{"name"}}),
              what + ": name " + Quote(s.short_name) + " is already used by service " +
                  Quote(it->second->full_name));
      }
      if (!s.database.empty()) {
        if (auto [it, ok] = databases.emplace(s.database, &s); !ok) {
          Error(At(span, {{"database"}}),
                what + ": database " + Quote(s.database) + " is already owned by service " +
                    Quote(it->second->full_name));
        }
      }
      CheckPorts(s, span, what, ports);
    }
  }
}

void Checker::CheckPorts(const Service& s,
                         const Span& span,
                         const std::string& what,
                         std::map<uint32_t, const Service*>& ports) {
  uint32_t grpc = s.effective_grpc_port;
  uint32_t admin = s.effective_admin_port;
  if (grpc == admin) {
    Error(span,
          what + ": grpc_port and admin_port are both " + std::to_string(grpc) +
              (s.grpc_port && s.admin_port ? "" : " (counting the defaults)"));
  }
  for (auto [name, port] :
       {std::pair{"grpc_port", s.grpc_port}, std::pair{"admin_port", s.admin_port}}) {
    if (port > 65535) {
      Error(At(span, {{name}}),
            what + ": " + name + " " + std::to_string(port) +
                " is not a TCP port (1 to 65535, or 0 for the default)");
    }
  }
  // Across services only ports set explicitly count: defaults are for
  // one service per host or container.
  for (uint32_t port : {s.grpc_port, s.admin_port}) {
    if (port == 0) continue;
    if (auto [it, ok] = ports.emplace(port, &s); !ok && it->second != &s) {
      Error(At(span, {{port == s.grpc_port ? "grpc_port" : "admin_port"}}),
            what + ": port " + std::to_string(port) + " is already used by service " +
                Quote(it->second->full_name));
    }
  }
}

void Checker::CheckEventsAndTablesUnique() {
  std::map<std::string, const Message*> subjects, tables;
  for (const File& file : model_.files) {
    for (const std::string& name : file.messages) {
      const Message& m = model_.messages.at(name);
      if (m.event && !m.event->subject.empty()) {
        if (auto [it, ok] = subjects.emplace(m.event->subject, &m); !ok) {
          Error(m.event->span,
                "event " + Quote(m.full_name) + ": subject " + Quote(m.event->subject) +
                    " is already used by event " + Quote(it->second->full_name) + " at " +
                    Where(it->second->event->span));
        }
      }
      // Tables share a database with the package's services.
      if (!m.table) continue;
      if (auto [it, ok] = tables.emplace(m.package + "/" + m.table->name, &m); !ok) {
        Error(m.table->span,
              "table " + Quote(m.table->name) + " (message " + Quote(m.name) +
                  ") is already declared by message " + Quote(it->second->full_name) + " at " +
                  Where(it->second->table->span));
      }
    }
  }
}

void Checker::CheckSagasUnique() {
  std::map<std::string, const Saga*> sagas;
  for (const File& file : model_.files) {
    for (const Saga& saga : file.sagas) {
      if (auto [it, ok] = sagas.emplace(saga.name, &saga); !ok && !saga.name.empty()) {
        Error(saga.span,
              "saga " + Quote(saga.name) + " is already declared at " + Where(it->second->span));
      }
    }
  }
}

}  // namespace cppsvc::model::checks
