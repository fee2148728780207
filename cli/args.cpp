#include "cli/args.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace pagedserve::cli {

Args::Args(int argc, char** argv, std::set<std::string> flags) {
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    auto eq = name.find('=');
    if (eq != std::string::npos) {
      values_.emplace(name.substr(0, eq), name.substr(eq + 1));
    } else if (flags.count(name)) {
      values_.emplace(name, "");
    } else if (i + 1 < argc) {
      values_.emplace(name, argv[++i]);
    } else {
      throw CliError("option --" + name + " needs a value");
    }
  }
}

bool Args::has(const std::string& name) const { return values_.count(name) > 0; }

bool Args::answered_help(const char* help) const {
  if (!has("help")) return false;
  std::fputs(help, stdout);
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

void Args::reject_unknown(const std::set<std::string>& known) const {
  for (const auto& [name, value] : values_)
    if (!known.count(name)) throw CliError("unknown option --" + name);
}

}  // namespace pagedserve::cli
