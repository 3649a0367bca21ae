// Prometheus text exposition format (version 0.0.4): a strict parser for the
// integration suites, so a test can both read a sample and fail on any line
// a scraper would refuse.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace cppsvc::integration {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> types;  // family -> counter|gauge|...
  std::map<std::string, std::string> help;   // family -> text
  std::vector<Sample> samples;
  std::vector<std::string> errors;  // "line N: why"

  // Sum of the samples named `name` whose labels include `match`.
  double Sum(const std::string& name, const std::map<std::string, std::string>& match) const;
};

Exposition ParsePrometheusText(const std::string& text);

}  // namespace cppsvc::integration
