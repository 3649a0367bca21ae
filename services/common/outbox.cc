#include "common/outbox.h"

#include <google/protobuf/descriptor.h>

#include "cppsvc/v1/options.pb.h"

namespace services {

OutboxEvent MakeEvent(const google::protobuf::Message& event) {
  const google::protobuf::Descriptor* d = event.GetDescriptor();
  const cppsvc::v1::EventOptions& opts = d->options().GetExtension(cppsvc::v1::event);
  OutboxEvent e;
  e.type = std::string(d->full_name());
  e.subject = opts.subject();
  if (const auto* f = d->FindFieldByName(opts.key());
      f != nullptr && !f->is_repeated() &&
      f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
    e.key = event.GetReflection()->GetString(event, f);
  }
  event.SerializeToString(&e.payload);
  e.created_at = cppsvc::Clock::now();
  return e;
}

void InMemoryOutbox::Append(OutboxEvent event) {
  std::lock_guard<std::mutex> lock(mu_);
  events_.push_back(std::move(event));
}

std::vector<OutboxEvent> InMemoryOutbox::Events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

std::vector<OutboxEvent> InMemoryOutbox::Drain() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<OutboxEvent> out;
  out.swap(events_);
  return out;
}

}  // namespace services
