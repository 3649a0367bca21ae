// Cycles of the graphs the checks walk (role inheritance, required message
// fields): nodes are indexes, out[v] the nodes v points to. Linear in nodes
// and edges, and iterative, so a chain of thousands of nodes cannot
// overflow the stack.
#pragma once

#include <cstddef>
#include <vector>

namespace cppsvc::model {

using Graph = std::vector<std::vector<size_t>>;

// The strongly connected components that hold a cycle (more than one node,
// or one node pointing to itself), each sorted, in the order Tarjan's
// algorithm closes them.
std::vector<std::vector<size_t>> Cycles(const Graph& out);

// A shortest cycle through the first node of `component` (one of Cycles()),
// inside it: first, ..., first.
std::vector<size_t> CyclePath(const Graph& out, const std::vector<size_t>& component);

}  // namespace cppsvc::model
