#pragma once
// The settings table (cli/settings.hpp) as a command's flags: generate,
// serve and the engine benchmarks read their engine settings here, so they
// share one list, one set of defaults and one set of checks. vLLM's
// spellings are accepted where they mean the same thing.
//
//   config file  <  environment (API key only)  <  flags  <  positional MODEL

#include <optional>
#include <set>
#include <string>

#include "actors/engine.hpp"
#include "cli/args.hpp"
#include "cli/settings.hpp"

namespace pagedserve::cli {

// The flags (without dashes) a command of `scope` takes: every setting of
// the scope (server: all), the aliases, and --config.
std::set<std::string> setting_flags(SettingScope scope);
// Those that are booleans, for Args.
std::set<std::string> boolean_setting_flags();

// Settings from --config FILE, then the flags, then the positional MODEL.
// `base` carries a command's own defaults (a benchmark's model); throws
// CliError naming the flag or key.
Settings read_settings(const Args& args, SettingScope scope, Settings base = Settings());

// The key clients must send: api_key, else the api_key_file's contents,
// else $PAGEDSERVE_API_KEY, else $VLLM_API_KEY; "" for none.
std::string resolve_api_key(const Settings& s);

// --chat-template's text, checked: a file that cannot be read, or a template
// this build cannot render, is refused now with its line and construct.
// std::nullopt when not given.
std::optional<std::string> read_chat_template(const Settings& s);

// The engine's part of the settings.
actors::EngineConfig engine_config(const Settings& s);

// The help text of the aliases and the positional MODEL.
std::string alias_help();

// A benchmark's command line: its own options beside the engine settings.
struct BenchCommandLine {
  Args args;
  actors::EngineConfig config;
};

// Parses a benchmark's command line. `usage` heads its help (the engine
// settings follow it); `own` are the benchmark's options and `own_flags`
// those of them that are booleans; `defaults` are its own defaults under the
// config file and the flags. nullopt once --help has been answered.
std::optional<BenchCommandLine> read_bench_command_line(int argc, char** argv, const std::string& usage,
                                                        std::set<std::string> own, const std::set<std::string>& own_flags,
                                                        const Settings& defaults = Settings());

}  // namespace pagedserve::cli
