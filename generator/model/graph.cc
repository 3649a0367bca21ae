#include "model/graph.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>

namespace cppsvc::model {
namespace {

constexpr size_t kUnvisited = SIZE_MAX;

// Tarjan's algorithm with an explicit stack of calls.
class Tarjan {
 public:
  explicit Tarjan(const Graph& out)
      : out_(out), index_(out.size(), kUnvisited), low_(out.size(), 0), on_stack_(out.size()) {}

  std::vector<std::vector<size_t>> Run() {
    for (size_t root = 0; root < out_.size(); ++root) {
      if (index_[root] != kUnvisited) continue;
      Enter(root);
      while (!calls_.empty()) Step();
    }
    return std::move(cycles_);
  }

 private:
  void Enter(size_t v) {
    index_[v] = low_[v] = counter_++;
    stack_.push_back(v);
    on_stack_[v] = true;
    calls_.emplace_back(v, 0);
  }

  // Follows the next edge of the innermost call, or returns from it.
  void Step() {
    auto [v, next] = calls_.back();
    if (next < out_[v].size()) {
      ++calls_.back().second;
      size_t w = out_[v][next];
      if (index_[w] == kUnvisited) {
        Enter(w);
      } else if (on_stack_[w]) {
        low_[v] = std::min(low_[v], index_[w]);
      }
      return;
    }
    calls_.pop_back();
    if (!calls_.empty()) low_[calls_.back().first] = std::min(low_[calls_.back().first], low_[v]);
    if (low_[v] == index_[v]) Close(v);
  }

  void Close(size_t v) {
    std::vector<size_t> component;
    size_t w = kUnvisited;
    while (w != v) {
      w = stack_.back();
      stack_.pop_back();
      on_stack_[w] = false;
      component.push_back(w);
    }
    bool self_loop = std::find(out_[v].begin(), out_[v].end(), v) != out_[v].end();
    if (component.size() == 1 && !self_loop) return;
    std::sort(component.begin(), component.end());
    cycles_.push_back(std::move(component));
  }

  const Graph& out_;
  std::vector<size_t> index_, low_, stack_;
  std::vector<bool> on_stack_;
  std::vector<std::pair<size_t, size_t>> calls_;  // node, next edge to follow
  std::vector<std::vector<size_t>> cycles_;
  size_t counter_ = 0;
};

}  // namespace

std::vector<std::vector<size_t>> Cycles(const Graph& out) {
  return Tarjan(out).Run();
}

std::vector<size_t> CyclePath(const Graph& out, const std::vector<size_t>& component) {
  const size_t first = component.front();
  std::map<size_t, size_t> parent;  // node -> the node it was reached from
  std::vector<size_t> queue = {first};
  for (size_t head = 0; head < queue.size(); ++head) {
    const size_t v = queue[head];
    for (size_t w : out[v]) {
      if (w == first) {
        std::vector<size_t> path;
        for (size_t u = v; u != first; u = parent.at(u)) path.push_back(u);
        path.push_back(first);
        std::reverse(path.begin(), path.end());
        path.push_back(first);
        return path;
      }
      if (parent.count(w) > 0 || !std::binary_search(component.begin(), component.end(), w))
        continue;
      parent.emplace(w, v);
      queue.push_back(w);
    }
  }
  return {first, first};  // not reached: every node of a component is on a cycle
}

}  // namespace cppsvc::model
