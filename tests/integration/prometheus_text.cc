#include "prometheus_text.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>

namespace cppsvc::integration {
namespace {

bool ParseSampleValue(const std::string& text, double& value) {
  if (text == "+Inf" || text == "Inf") {
    value = HUGE_VAL;
    return true;
  }
  if (text == "-Inf") {
    value = -HUGE_VAL;
    return true;
  }
  if (text == "NaN") {
    value = std::nan("");
    return true;
  }
  static const std::regex number(R"([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)");
  if (!std::regex_match(text, number)) return false;
  value = std::strtod(text.c_str(), nullptr);
  return true;
}

// The family a sample belongs to: histogram and summary samples carry a
// suffix on the family's name.
std::string FamilyOf(const std::string& sample, const std::map<std::string, std::string>& types) {
  if (types.count(sample)) return sample;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s(suffix);
    if (sample.size() > s.size() && sample.compare(sample.size() - s.size(), s.size(), s) == 0) {
      std::string family = sample.substr(0, sample.size() - s.size());
      if (types.count(family)) return family;
    }
  }
  return sample;
}

}  // namespace

double Exposition::Sum(const std::string& name,
                       const std::map<std::string, std::string>& match) const {
  double sum = 0;
  for (const Sample& s : samples) {
    if (s.name != name) continue;
    bool all = std::all_of(match.begin(), match.end(), [&](const auto& kv) {
      auto it = s.labels.find(kv.first);
      return it != s.labels.end() && it->second == kv.second;
    });
    if (all) sum += s.value;
  }
  return sum;
}

Exposition ParsePrometheusText(const std::string& text) {
  static const std::regex metric_name("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex label_name("[a-zA-Z_][a-zA-Z0-9_]*");
  static const std::set<std::string> kinds{"counter", "gauge", "histogram", "summary", "untyped"};
  Exposition out;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  auto error = [&](const std::string& why) {
    out.errors.push_back("line " + std::to_string(number) + ": " + why + ": '" + line + "'");
  };
  if (!text.empty() && text.back() != '\n') {
    out.errors.push_back("the exposition does not end with a line feed");
  }
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line.substr(1));
      std::string keyword, name;
      words >> keyword >> name;
      if (keyword != "HELP" && keyword != "TYPE") continue;  // a plain comment
      if (!std::regex_match(name, metric_name)) {
        error("bad metric name in # " + keyword);
        continue;
      }
      std::string rest;
      std::getline(words, rest);
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      if (keyword == "TYPE") {
        if (!kinds.count(rest)) error("unknown metric type '" + rest + "'");
        if (out.types.count(name)) error("second # TYPE for " + name);
        for (const Sample& s : out.samples) {
          if (FamilyOf(s.name, {{name, rest}}) == name) error("# TYPE after samples of " + name);
        }
        out.types[name] = rest;
      } else {
        out.help[name] = rest;
      }
      continue;
    }

    // name[{label="value",...}] value [timestamp]
    Sample sample;
    size_t pos = 0;
    while (pos < line.size() && line[pos] != '{' && line[pos] != ' ') ++pos;
    sample.name = line.substr(0, pos);
    if (!std::regex_match(sample.name, metric_name)) {
      error("bad metric name");
      continue;
    }
    bool ok = true;
    if (pos < line.size() && line[pos] == '{') {
      ++pos;
      while (ok && pos < line.size() && line[pos] != '}') {
        size_t eq = line.find('=', pos);
        if (eq == std::string::npos) {
          ok = false;
          break;
        }
        std::string label = line.substr(pos, eq - pos);
        if (!std::regex_match(label, label_name) || eq + 1 >= line.size() || line[eq + 1] != '"') {
          ok = false;
          break;
        }
        std::string value;
        size_t i = eq + 2;
        bool closed = false;
        for (; i < line.size(); ++i) {
          char c = line[i];
          if (c == '\\') {
            if (i + 1 >= line.size()) break;
            char e = line[++i];
            if (e == 'n') {
              value += '\n';
            } else if (e == '\\' || e == '"') {
              value += e;
            } else {
              break;  // no other escapes exist
            }
          } else if (c == '"') {
            closed = true;
            break;
          } else {
            value += c;
          }
        }
        if (!closed || sample.labels.count(label)) {
          ok = false;
          break;
        }
        sample.labels[label] = value;
        pos = i + 1;
        if (pos < line.size() && line[pos] == ',') ++pos;
      }
      if (!ok || pos >= line.size() || line[pos] != '}') {
        error("malformed label set");
        continue;
      }
      ++pos;
    }
    if (pos >= line.size() || line[pos] != ' ') {
      error("no value");
      continue;
    }
    std::istringstream rest(line.substr(pos + 1));
    std::string value_text, timestamp, extra;
    rest >> value_text >> timestamp >> extra;
    if (!ParseSampleValue(value_text, sample.value)) {
      error("bad value '" + value_text + "'");
      continue;
    }
    if (!timestamp.empty() && !std::regex_match(timestamp, std::regex("-?\\d+"))) {
      error("bad timestamp");
      continue;
    }
    if (!extra.empty()) {
      error("trailing text");
      continue;
    }
    std::string family = FamilyOf(sample.name, out.types);
    if (!out.types.count(family))
      error("sample of " + sample.name + " without a # TYPE line before it");
    out.samples.push_back(std::move(sample));
  }
  return out;
}

}  // namespace cppsvc::integration
