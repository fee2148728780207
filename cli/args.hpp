#pragma once
// A small command-line parser: `--name value`, `--name=value`, and boolean
// flags in every form people type (`--x`, `--no-x`, `--x true|false`,
// `--x=false`); `-h` is `--help`. Positional arguments are kept in order;
// a command says how many it takes. Every problem becomes a CliError whose
// message names the flag.

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
  // `flags` are the boolean options; every other --name takes a value.
  // "help" is always a flag.
  Args(int argc, char** argv, std::set<std::string> flags);

  bool has(const std::string& name) const;  // given on the command line
  // A boolean flag's value: its last form wins; `fallback` when not given.
  bool flag(const std::string& name, bool fallback = false) const;
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  std::vector<std::string> get_all(const std::string& name) const;  // repeated options
  std::int64_t get_int(const std::string& name, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
  double get_double(const std::string& name, double fallback, double min, double max) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // The one positional argument a command may take (`what` names it in the
  // message when there are more).
  std::optional<std::string> single_positional(const std::string& what) const;
  // With --help or -h: prints `help` to stdout and returns true (the command is done).
  bool answered_help(const std::string& help) const;
  // Throws CliError for any option not in `known`, and for more than
  // `max_positional` positional arguments (call after reading all).
  void reject_unknown(const std::set<std::string>& known, std::size_t max_positional = 0) const;

 private:
  void add_flag(const std::string& name, const std::string& value);

  std::set<std::string> flags_;
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// "true"/"1"/"yes"/"on" or "false"/"0"/"no"/"off"; nullopt for anything else.
std::optional<bool> parse_bool(const std::string& text);

}  // namespace pagedserve::cli
