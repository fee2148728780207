#pragma once
// llama.cpp as the reference forward pass: tools/llamacpp/oracle.mjs runs
// a GGUF file in node-llama-cpp's prebuilt llama.cpp and decodes greedily
// from token ids, returning each step's token and log-probabilities.

#include <simdjson.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <vector>

#include "reference_cases.hpp"

namespace pagedserve::testing {

struct OracleDecode {
  std::vector<std::int32_t> tokens;
  std::vector<std::vector<double>> logprobs;  // the row each token was chosen from (-inf: probability 0)
};

inline std::string run_and_capture(const std::string& cmd, int& exit_code) {
  std::string out;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  std::array<char, 1 << 16> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = ::pclose(pipe);
  exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

inline std::vector<OracleDecode> llamacpp_greedy(const std::string& gguf, const std::vector<std::vector<std::int32_t>>& prompts,
                                                 int steps) {
  const auto tool = source_dir() + "/tools/llamacpp";
  if (!std::filesystem::exists(tool + "/node_modules/node-llama-cpp"))
    throw std::runtime_error(tool + "/node_modules is missing: run scripts/install-deps.sh");
  const auto request = gguf + ".request.json";
  {
    std::ofstream out(request);
    out << "{\"steps\":" << steps << ",\"prompts\":[";
    for (std::size_t p = 0; p < prompts.size(); ++p) {
      out << (p ? ",[" : "[");
      for (std::size_t i = 0; i < prompts[p].size(); ++i) out << (i ? "," : "") << prompts[p][i];
      out << "]";
    }
    out << "]}";
  }
  int exit_code = -1;
  const auto json = run_and_capture("node " + tool + "/oracle.mjs " + gguf + " " + request + " 2>&1", exit_code);
  if (exit_code != 0) throw std::runtime_error("llama.cpp oracle failed (" + std::to_string(exit_code) + "): " + json);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc)) throw std::runtime_error("llama.cpp oracle printed no JSON: " + json.substr(0, 2000));
  std::vector<OracleDecode> results;
  simdjson::dom::array decodes;  // named: iterating a temporary simdjson_result's array dangles
  if (doc["results"].get(decodes)) throw std::runtime_error("llama.cpp oracle: no results in " + json.substr(0, 2000));
  for (auto r : decodes) {
    OracleDecode d;
    simdjson::dom::array tokens, rows;
    if (r["tokens"].get(tokens) || r["logprobs"].get(rows)) throw std::runtime_error("llama.cpp oracle: malformed result");
    for (auto t : tokens) d.tokens.push_back(static_cast<std::int32_t>(t.get_int64().value()));
    for (auto row : rows) {
      simdjson::dom::array values = row.get_array().value();
      d.logprobs.emplace_back();
      for (auto x : values) d.logprobs.back().push_back(x.is_null() ? -INFINITY : x.get_double().value());
    }
    results.push_back(std::move(d));
  }
  return results;
}

}  // namespace pagedserve::testing
