#include "cli/command_settings.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

#include "jinja/template.hpp"
#include "actors/worker_link.hpp"

namespace pagedserve::cli {

namespace {

struct Alias {
  const char* flag;     // without dashes
  const char* key;      // the setting it sets
  const char* value;    // a fixed value ("" : the flag's own value)
};

// Other spellings of settings, vLLM's among them.
constexpr Alias kAliases[] = {
    {"num-blocks", "num_gpu_blocks", ""},
    {"num-gpu-blocks-override", "num_gpu_blocks", ""},
    {"no-prefix-caching", "enable_prefix_caching", "false"},
    // vLLM needs it for tool_choice "auto"; here auto is on whenever a
    // tool-call format is known, so the flag is taken and changes nothing.
    {"enable-auto-tool-choice", "", "true"},
};

}  // namespace

std::set<std::string> setting_flags(SettingScope scope) {
  std::set<std::string> flags = {"config"};
  for (const auto& s : setting_specs())
    if (scope == SettingScope::server || s.scope == SettingScope::engine) flags.insert(flag_of(s.key));
  for (const auto& a : kAliases) flags.insert(a.flag);
  return flags;
}

std::set<std::string> boolean_setting_flags() {
  std::set<std::string> flags = {"no-prefix-caching", "enable-auto-tool-choice"};
  for (const auto& s : setting_specs())
    if (std::holds_alternative<bool>(s.default_value)) flags.insert(flag_of(s.key));
  return flags;
}

Settings read_settings(const Args& args, SettingScope scope, Settings settings) {
  const auto flags = setting_flags(scope);
  try {
    if (auto file = args.get("config")) settings.load_file(*file);
    for (const auto& spec : setting_specs()) {
      const auto flag = flag_of(spec.key);
      if (!flags.count(flag)) continue;
      if (spec.key == std::string("executor")) {
        // Repeated: one worker per rank, in rank order.
        const auto all = args.get_all(flag);
        std::string joined;
        for (const auto& v : all) joined += (joined.empty() ? "" : ",") + v;
        if (!all.empty()) settings.set_from_text(spec.key, joined);
        continue;
      }
      if (auto value = args.get(flag)) settings.set_from_text(spec.key, *value);
    }
    for (const auto& a : kAliases) {
      auto value = args.get(a.flag);
      if (!value || *a.key == '\0') continue;
      if (*a.value == '\0') settings.set_from_text(a.key, *value);
      else if (*value == "true") settings.set_from_text(a.key, a.value);
    }
  } catch (const std::invalid_argument& e) {
    throw CliError(e.what());
  }
  if (auto model = args.single_positional("model")) {
    if (args.has("model") && *args.get("model") != *model)
      throw CliError("the model is given twice: '" + *model + "' and --model " + *args.get("model"));
    settings.set_from_text("model", *model);
  }
  return settings;
}

namespace {

std::string read_key_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CliError("cannot read --api-key-file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string key = ss.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ' || key.back() == '\t'))
    key.pop_back();
  if (key.empty()) throw CliError("--api-key-file " + path + " is empty");
  return key;
}

}  // namespace

std::string resolve_api_key(const Settings& s) {
  const auto& key = s.get_string("api_key");
  const auto& file = s.get_string("api_key_file");
  if (!key.empty() && !file.empty()) throw CliError("give --api-key or --api-key-file, not both");
  if (!key.empty()) return key;
  if (!file.empty()) return read_key_file(file);
  for (const char* name : {"PAGEDSERVE_API_KEY", "VLLM_API_KEY"})
    if (const char* env = std::getenv(name); env && *env) return env;
  return "";
}

std::optional<std::string> read_chat_template(const Settings& s) {
  const auto& path = s.get_string("chat_template");
  if (path.empty()) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CliError("cannot read --chat-template " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    jinja::Template check(ss.str());
  } catch (const jinja::TemplateError& e) {
    throw CliError("--chat-template " + path + ": " + e.what());
  }
  return ss.str();
}

actors::EngineConfig engine_config(const Settings& s) {
  actors::EngineConfig c;
  c.model = s.get_string("model");
  c.tokenizer = s.get_string("tokenizer");
  c.device = s.get_string("device");
  for (std::string_view rest = s.get_string("executor"); !rest.empty();) {
    const auto comma = rest.find(',');
    const std::string one(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    try {
      actors::parse_host_port(one, "--executor");
    } catch (const std::invalid_argument& e) {
      throw CliError(e.what());
    }
    c.executors.push_back(one);
  }
  c.dtype = s.get_string("dtype");
  c.quantization = s.get_string("quantization");
  c.simple_attention = s.get_string("attention_kernel") == "simple";
  c.enforce_eager = s.get_bool("enforce_eager");
  c.block_size = static_cast<int>(s.get_int("block_size"));
  c.num_gpu_blocks = static_cast<int>(s.get_int("num_gpu_blocks"));
  c.gpu_memory_utilization = s.get_double("gpu_memory_utilization");
  c.swap_space_gib = s.get_double("swap_space");
  c.preemption_mode = s.get_string("preemption_mode") == "swap" ? actors::PreemptionMode::swap
                                                                  : actors::PreemptionMode::recompute;
  c.max_num_seqs = static_cast<int>(s.get_int("max_num_seqs"));
  c.max_num_batched_tokens = static_cast<int>(s.get_int("max_num_batched_tokens"));
  c.max_model_len = static_cast<int>(s.get_int("max_model_len"));
  c.enable_prefix_caching = s.get_bool("enable_prefix_caching");
  c.watermark = s.get_double("watermark");
  c.max_waiting_requests = static_cast<int>(s.get_int("max_waiting_requests"));
  c.tensor_parallel_size = static_cast<int>(s.get_int("tensor_parallel_size"));
  c.pipeline_parallel_size = static_cast<int>(s.get_int("pipeline_parallel_size"));
  c.nccl_library = s.get_string("nccl_library");
  const auto ranks = static_cast<std::size_t>(c.tensor_parallel_size) * static_cast<std::size_t>(c.pipeline_parallel_size);
  if (!c.executors.empty() && c.executors.size() != ranks)
    throw CliError("--tensor-parallel-size " + std::to_string(c.tensor_parallel_size) + " x --pipeline-parallel-size " +
                   std::to_string(c.pipeline_parallel_size) + " needs " + std::to_string(ranks) +
                   " workers, one --executor HOST:PORT per rank in rank order; " +
                   std::to_string(c.executors.size()) + " given");
  return c;
}

std::string alias_help() {
  return "  MODEL (positional)                   the same as --model MODEL\n"
         "  --num-blocks N, --num-gpu-blocks-override N   the same as --num-gpu-blocks N\n"
         "  --no-prefix-caching                  the same as --no-enable-prefix-caching\n"
         "  --enable-auto-tool-choice            vLLM's; taken and ignored (see --tool-call-parser)\n"
         "  --config FILE                        a JSON object of settings; flags override it\n";
}

std::optional<BenchCommandLine> read_bench_command_line(int argc, char** argv, const std::string& usage,
                                                        std::set<std::string> own, const std::set<std::string>& own_flags,
                                                        const Settings& defaults) {
  auto flags = boolean_setting_flags();
  flags.insert(own_flags.begin(), own_flags.end());
  Args args(argc, argv, flags);
  if (args.answered_help(usage + alias_help() + settings_help(SettingScope::engine))) return std::nullopt;
  const auto settings = setting_flags(SettingScope::engine);
  own.insert(settings.begin(), settings.end());
  own.insert(own_flags.begin(), own_flags.end());
  args.reject_unknown(own, 1);
  auto config = engine_config(read_settings(args, SettingScope::engine, defaults));
  return BenchCommandLine{std::move(args), std::move(config)};
}

}  // namespace pagedserve::cli
