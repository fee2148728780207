#pragma once
// Every engine and server setting, in one table: its key, type, default,
// allowed values and help. The table drives the config file
// (conf/pagedserve.json), the command-line flags that override it
// (--block-size for block_size), `pagedserve config`, and README's table,
// so none of them can drift from the code's defaults.

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace pagedserve::cli {

using SettingValue = std::variant<bool, std::int64_t, double, std::string>;

// Who reads a setting: the engine (generate, serve and every bench that
// runs it) or the server alone.
enum class SettingScope { engine, server };

struct SettingSpec {
  SettingSpec(std::string k, SettingValue def, std::string h, double lo = 0, double hi = 0,
              std::vector<std::string> allowed = {})
      : key(std::move(k)), default_value(std::move(def)), help(std::move(h)), min(lo), max(hi), choices(std::move(allowed)) {}
  std::string key;
  SettingValue default_value;
  std::string help;
  double min = 0, max = 0;              // numbers: inclusive range
  std::vector<std::string> choices;     // strings: allowed values (empty: any)
  SettingScope scope = SettingScope::engine;
};

const std::vector<SettingSpec>& setting_specs();

class Settings {
 public:
  Settings();  // every default

  // Reads a JSON object of settings; throws std::invalid_argument naming the
  // file and the key for unknown keys, wrong types and values out of range.
  void load_file(const std::string& path);
  void load_json(const std::string& text, const std::string& where);
  // Sets one setting from text (a command-line flag's value).
  void set_from_text(const std::string& key, const std::string& text);

  bool get_bool(const std::string& key) const;
  std::int64_t get_int(const std::string& key) const;
  double get_double(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;

  std::string to_json() const;  // every setting, pretty-printed
 private:
  void set(const SettingSpec& spec, SettingValue v, const std::string& where);
  std::map<std::string, SettingValue> values_;
};

// The settings as a Markdown table (README).
std::string settings_markdown_table();
// One line per flag of `scope` (and, for server, the engine's too) with its
// meaning, choices and default, for a command's --help.
std::string settings_help(SettingScope scope);
const SettingSpec* find_setting(const std::string& key);

// The command-line flag of a setting, without the dashes: "block-size".
std::string flag_of(const std::string& key);

}  // namespace pagedserve::cli
