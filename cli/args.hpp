#pragma once
// A small command-line parser: `--name value`, `--name=value` and `--flag`.
// Every problem becomes a CliError whose message names the flag.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace pagedserve::cli {

struct CliError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  // `flags` are the options that take no value; every other --name takes one.
  Args(int argc, char** argv, std::set<std::string> flags);

  bool has(const std::string& name) const;
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  std::vector<std::string> get_all(const std::string& name) const;  // repeated options
  std::int64_t get_int(const std::string& name, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
  double get_double(const std::string& name, double fallback, double min, double max) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // With --help: prints `help` to stdout and returns true (the command is done).
  bool answered_help(const char* help) const;
  // Throws CliError for any option not in `known` (call after reading all).
  void reject_unknown(const std::set<std::string>& known) const;

 private:
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace pagedserve::cli
