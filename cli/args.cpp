#include "cli/args.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace pagedserve::cli {

std::optional<bool> parse_bool(const std::string& text) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return false;
  return std::nullopt;
}

Args::Args(int argc, char** argv, std::set<std::string> flags) : flags_(std::move(flags)) {
  flags_.insert("help");
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h") arg = "--help";
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    const auto eq = name.find('=');
    const bool negated = !flags_.count(name.substr(0, eq)) && name.rfind("no-", 0) == 0 &&
                         flags_.count(name.substr(3, eq == std::string::npos ? eq : eq - 3));
    if (negated) {
      if (eq != std::string::npos) throw CliError("--" + name.substr(0, eq) + " takes no value");
      add_flag(name.substr(3), "false");
    } else if (eq != std::string::npos) {
      const std::string key = name.substr(0, eq);
      if (flags_.count(key)) add_flag(key, name.substr(eq + 1));
      else values_.emplace(key, name.substr(eq + 1));
    } else if (flags_.count(name)) {
      // `--x true` and `--x false` as well as a bare `--x`.
      if (i + 1 < argc && parse_bool(argv[i + 1])) add_flag(name, argv[++i]);
      else add_flag(name, "true");
    } else if (i + 1 < argc) {
      values_.emplace(name, argv[++i]);
    } else {
      throw CliError("option --" + name + " needs a value");
    }
  }
}

void Args::add_flag(const std::string& name, const std::string& value) {
  const auto b = parse_bool(value);
  if (!b) throw CliError("--" + name + " must be true or false, got '" + value + "'");
  values_.emplace(name, *b ? "true" : "false");
}

bool Args::has(const std::string& name) const { return values_.count(name) > 0; }

bool Args::flag(const std::string& name, bool fallback) const {
  auto value = get(name);
  return value ? *value == "true" : fallback;
}

bool Args::answered_help(const std::string& help) const {
  if (!flag("help")) return false;
  std::fputs(help.c_str(), stdout);
  return true;
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto range = values_.equal_range(name);
  if (range.first == range.second) return std::nullopt;
  return std::prev(range.second)->second;  // the last one wins
}

std::string Args::get_or(const std::string& name, const std::string& fallback) const {
  return get(name).value_or(fallback);
}

std::vector<std::string> Args::get_all(const std::string& name) const {
  std::vector<std::string> out;
  for (auto [it, end] = values_.equal_range(name); it != end; ++it) out.push_back(it->second);
  return out;
}

std::optional<std::string> Args::single_positional(const std::string& what) const {
  if (positional_.size() > 1)
    throw CliError("one " + what + " only, got '" + positional_[0] + "' and '" + positional_[1] + "'");
  if (positional_.empty()) return std::nullopt;
  return positional_[0];
}

std::int64_t Args::get_int(const std::string& name, std::int64_t fallback, std::int64_t min,
                           std::int64_t max) const {
  auto text = get(name);
  if (!text) return fallback;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size())
    throw CliError("--" + name + " expects an integer, got '" + *text + "'");
  if (value < min || value > max)
    throw CliError("--" + name + " must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                   "], got " + *text);
  return value;
}

double Args::get_double(const std::string& name, double fallback, double min, double max) const {
  auto text = get(name);
  if (!text) return fallback;
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text->size() || !std::isfinite(value))
    throw CliError("--" + name + " expects a number, got '" + *text + "'");
  if (value < min || value > max)
    throw CliError("--" + name + " must be in [" + std::to_string(min) + ", " + std::to_string(max) +
                   "], got " + *text);
  return value;
}

void Args::reject_unknown(const std::set<std::string>& known, std::size_t max_positional) const {
  for (const auto& [name, value] : values_)
    if (!known.count(name) && name != "help") throw CliError("unknown option --" + name);
  if (positional_.size() > max_positional)
    throw CliError("unexpected argument '" + positional_[max_positional] + "'" +
                   (max_positional ? "" : " (options start with --)"));
}

}  // namespace pagedserve::cli
