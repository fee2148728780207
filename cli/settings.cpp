#include "cli/settings.hpp"

#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "cli/args.hpp"
#include "net/json_writer.hpp"

namespace pagedserve::cli {

namespace {

using I = std::int64_t;

// Engine settings first (every command that runs the engine takes them:
// generate, serve, bench), then those of the server alone.
std::vector<SettingSpec> make_specs() {
  std::vector<SettingSpec> engine = {
      {"model", std::string("models/stories260K"), "model directory, llama2.c checkpoint, or dummy:<preset>"},
      {"tokenizer", std::string(""), "tokenizer file (default: the one beside the model)"},
      {"device", std::string("cpu"), "cpu or cuda:N"},
      {"dtype", std::string("auto"),
       "GPU: activations and KV cache (auto: the checkpoint's; f32 runs in f16). CPU: computes in f32, keeps weights in f32 or bf16",
       0, 0, {"auto", "f32", "f16", "bf16"}},
      {"quantization", std::string("none"), "CPU: int8 weights, one scale per group of 32, converted at load", 0, 0,
       {"none", "int8"}},
      {"attention_kernel", std::string("fast"), "CUDA PagedAttention kernel (simple: the known-good fallback)", 0, 0,
       {"fast", "simple"}},
      {"enforce_eager", false, "CUDA: launch every decode step kernel by kernel instead of replaying recorded graphs"},
      {"block_size", I{16}, "tokens per KV block", 1, 1024},
      {"num_gpu_blocks", I{0}, "KV blocks in the device pool (0: sized from memory)", 0, 1 << 30},
      {"gpu_memory_utilization", 0.9, "fraction of GPU memory for weights, activations and KV blocks", 0.05, 1.0},
      {"swap_space", 4.0, "GiB of (pinned) host memory for swapped-out KV blocks", 0, 1024},
      {"preemption_mode", std::string("recompute"), "how a request is preempted when blocks run out", 0, 0,
       {"recompute", "swap"}},
      {"max_num_seqs", I{256}, "sequences in one step", 1, 65536},
      {"max_num_batched_tokens", I{2048}, "tokens in one step (prefill chunks + decodes)", 1, 1 << 20},
      {"max_model_len", I{0}, "longest prompt + output (0: the model's maximum)", 0, 1 << 24},
      {"enable_prefix_caching", true, "reuse cached KV blocks of identical prompt prefixes"},
      {"watermark", 0.01, "fraction of blocks kept free at admission", 0, 0.5},
      {"tensor_parallel_size", I{1}, "ranks each layer is split across (threads of this process, one GPU each with --device cuda; or one worker each: --executor, CPU only)", 1, 1024},
      {"pipeline_parallel_size", I{1}, "stages the layers are split across (threads of this process, one GPU each with --device cuda; or one worker each: --executor, CPU only)", 1, 1024},
      {"nccl_library", std::string(""), "NCCL for --device cuda with --tensor-parallel-size > 1 (empty: $PAGEDSERVE_NCCL_LIBRARY, else libnccl.so.2 searched)"},
  };
  std::vector<SettingSpec> server = {
      {"host", std::string("127.0.0.1"), "address the server listens on"},
      {"port", I{8000}, "TCP port", 1, 65535},
      {"served_model_name", std::string(""), "model name the API shows and accepts (empty: the model's file name)"},
      {"chat_template", std::string(""), "Jinja chat template file used instead of the model's own (empty: the model's)"},
      {"tool_call_parser", std::string("auto"),
       "format of the tool calls tool_choice auto parses out of the answer (auto: the chat template's; none: no parsing)", 0, 0,
       {"auto", "none", "hermes", "llama3_json", "mistral"}},
      {"reasoning_parser", std::string("none"),
       "split the model's thinking (its think block) off the answer as reasoning_content (none: off)", 0, 0,
       {"none", "qwen3", "deepseek_r1"}},
      {"api_key", std::string(""), "key every /v1/* request must send as Authorization: Bearer KEY (empty: none)"},
      {"api_key_file", std::string(""), "file holding the API key, so it stays out of the process list"},
      {"allowed_origins", std::string(""), "comma-separated origins browsers may call the API from, * for any (empty: no CORS)"},
      {"allowed_hosts", std::string(""),
       "comma-separated Host names a loopback server answers besides localhost and its addresses, * for any"},
      {"max_response_tokens", I{1 << 20},
       "largest response one request may ask for: prompts x max(n, best_of) x max_tokens x (1 + logprobs)", 1, I{1} << 40},
      {"max_waiting_requests", I{1024}, "queued requests before new ones get 503", 1, 1 << 24},
      {"max_body_bytes", I{1 << 20}, "largest accepted request body", 1024, 1 << 30},
      {"max_connections", I{4096}, "open connections before new ones get 503 (also bounded by the fd limit)", 1, 1 << 20},
      {"max_connection_buffer_bytes", I{1 << 20},
       "output queued for one connection before a stream is cut off as a slow reader (a WebSocket closed with 1008)",
       4096, 1 << 30},
      {"request_timeout", 30.0, "seconds to receive one whole request (headers and body)", 0.1, 3600},
      {"idle_timeout", 60.0, "seconds a keep-alive connection waits for its next request; a WebSocket for a ping's answer",
       0.1, 86400},
      {"write_timeout", 30.0, "seconds a write may stall before the client counts as too slow", 0.1, 3600},
      {"admin_token", std::string(""), "bearer token for /admin (required when host is not loopback)"},
      {"drain_timeout", 30.0, "seconds in-flight requests may finish after SIGTERM", 0, 3600},
      {"log_level", std::string("info"), "least severe log level written", 0, 0, {"debug", "info", "warning", "error"}},
      {"log_file", std::string(""), "append log lines to this file, reopened on SIGHUP (empty: stderr)"},
      {"executor", std::string(""),
       "HOST:PORT of a `pagedserve worker` that runs the model, or one per rank in rank order, comma-separated or "
       "--executor repeated (empty: in this process; unauthenticated link)"},
  };
  for (auto& s : server) s.scope = SettingScope::server;
  engine.insert(engine.end(), server.begin(), server.end());
  return engine;
}

// "an integer", "a string", ...: for messages.
std::string type_name(const SettingValue& v) {
  return std::holds_alternative<bool>(v) ? "a boolean"
         : std::holds_alternative<I>(v)  ? "an integer"
         : std::holds_alternative<double>(v) ? "a number"
                                             : "a string";
}

std::string show(const SettingValue& v) {
  if (auto b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (auto i = std::get_if<I>(&v)) return std::to_string(*i);
  if (auto d = std::get_if<double>(&v)) {
    std::ostringstream ss;
    ss << *d;
    return ss.str();
  }
  return net::json_quote(std::get<std::string>(v));
}

}  // namespace

const std::vector<SettingSpec>& setting_specs() {
  static const std::vector<SettingSpec> specs = make_specs();
  return specs;
}

const SettingSpec* find_setting(const std::string& key) {
  for (const auto& s : setting_specs())
    if (s.key == key) return &s;
  return nullptr;
}

Settings::Settings() {
  for (const auto& s : setting_specs()) values_[s.key] = s.default_value;
}

void Settings::set(const SettingSpec& spec, SettingValue v, const std::string& where) {
  // An integer is a fine value for a number setting.
  if (std::holds_alternative<double>(spec.default_value))
    if (auto i = std::get_if<I>(&v)) v = static_cast<double>(*i);
  if (v.index() != spec.default_value.index())
    throw std::invalid_argument(where + ": " + spec.key + " must be " + type_name(spec.default_value) + ", got " + show(v));
  const bool ranged = spec.max > spec.min;
  if (auto i = std::get_if<I>(&v); i && ranged && (*i < spec.min || *i > spec.max))
    throw std::invalid_argument(where + ": " + spec.key + " must be in [" + show(I(spec.min)) + ", " + show(I(spec.max)) +
                                "], got " + show(v));
  if (auto d = std::get_if<double>(&v); d && (!std::isfinite(*d) || (ranged && (*d < spec.min || *d > spec.max))))
    throw std::invalid_argument(where + ": " + spec.key + " must be in [" + show(spec.min) + ", " + show(spec.max) +
                                "], got " + show(v));
  if (auto s = std::get_if<std::string>(&v); s && !spec.choices.empty()) {
    bool ok = false;
    for (const auto& c : spec.choices) ok |= c == *s;
    if (!ok) {
      std::string list;
      for (const auto& c : spec.choices) list += (list.empty() ? "" : ", ") + c;
      throw std::invalid_argument(where + ": " + spec.key + " must be one of " + list + ", got " + show(v));
    }
  }
  values_[spec.key] = std::move(v);
}

void Settings::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  load_json(ss.str(), path);
}

void Settings::load_json(const std::string& text, const std::string& where) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(text).get(obj)) throw std::invalid_argument(where + ": not a JSON object");
  for (auto [key_view, value] : obj) {
    const std::string key(key_view);
    const SettingSpec* spec = find_setting(key);
    if (!spec) throw std::invalid_argument(where + ": unknown setting '" + key + "'");
    SettingValue v;
    if (bool b; !value.get(b)) v = b;
    else if (std::int64_t i; !value.get(i)) v = i;
    else if (double d; !value.get(d)) v = d;
    else if (std::string_view s; !value.get(s)) v = std::string(s);
    else throw std::invalid_argument(where + ": " + key + " must be " + type_name(spec->default_value));
    set(*spec, std::move(v), where);
  }
}

void Settings::set_from_text(const std::string& key, const std::string& text) {
  const SettingSpec* spec = find_setting(key);
  if (!spec) throw std::invalid_argument("unknown setting '" + key + "'");
  const std::string where = "--" + flag_of(key);
  const auto& d = spec->default_value;
  if (std::holds_alternative<std::string>(d)) return set(*spec, text, where);
  if (std::holds_alternative<bool>(d)) {
    if (auto b = parse_bool(text)) return set(*spec, *b, where);
    throw std::invalid_argument(where + " must be true or false, got '" + text + "'");
  }
  // Parse first, then set: a range error must not read as a parse error.
  std::optional<SettingValue> parsed;
  try {
    std::size_t used = 0;
    if (std::holds_alternative<I>(d)) {
      const I v = std::stoll(text, &used);
      if (used == text.size()) parsed = v;
    } else {
      const double v = std::stod(text, &used);
      if (used == text.size()) parsed = v;
    }
  } catch (const std::exception&) {
  }
  if (!parsed) throw std::invalid_argument(where + " must be " + type_name(d) + ", got '" + text + "'");
  set(*spec, *parsed, where);
}

bool Settings::get_bool(const std::string& key) const { return std::get<bool>(values_.at(key)); }
std::int64_t Settings::get_int(const std::string& key) const { return std::get<I>(values_.at(key)); }
double Settings::get_double(const std::string& key) const { return std::get<double>(values_.at(key)); }
const std::string& Settings::get_string(const std::string& key) const { return std::get<std::string>(values_.at(key)); }

std::string Settings::to_json() const {
  std::string out = "{\n";
  const auto& specs = setting_specs();
  for (std::size_t i = 0; i < specs.size(); ++i)
    out += "  " + net::json_quote(specs[i].key) + ": " + show(values_.at(specs[i].key)) + (i + 1 < specs.size() ? ",\n" : "\n");
  return out + "}\n";
}

namespace {

// "(recompute, swap)" after a setting's help; "" without choices.
std::string choices_text(const SettingSpec& s) {
  if (s.choices.empty()) return "";
  std::string out = " (";
  for (std::size_t i = 0; i < s.choices.size(); ++i) out += (i ? ", " : "") + s.choices[i];
  return out + ")";
}

// "--block-size N", "--enable-prefix-caching, --no-enable-prefix-caching".
std::string flag_usage(const SettingSpec& s) {
  const std::string flag = "--" + flag_of(s.key);
  const auto& d = s.default_value;
  if (std::holds_alternative<bool>(d)) return flag + ", --no-" + flag_of(s.key);
  if (!s.choices.empty()) return flag + " MODE";
  return flag + (std::holds_alternative<I>(d) ? " N" : std::holds_alternative<double>(d) ? " X" : " TEXT");
}

}  // namespace

std::string settings_markdown_table() {
  std::string out = "| key | flag | default | used by | meaning |\n|---|---|---|---|---|\n";
  for (const auto& s : setting_specs()) {
    const char* used_by = s.scope == SettingScope::engine ? "all" : "serve";
    out += "| `" + s.key + "` | `--" + flag_of(s.key) + "` | `" + show(s.default_value) + "` | " + used_by + " | " +
           s.help + choices_text(s) + " |\n";
  }
  return out;
}

std::string settings_help(SettingScope scope) {
  std::string out;
  for (const auto& s : setting_specs()) {
    if (scope == SettingScope::engine && s.scope != SettingScope::engine) continue;
    const auto* text = std::get_if<std::string>(&s.default_value);
    const std::string def = text && text->empty() ? "" : " (default " + show(s.default_value) + ")";
    char line[512];
    std::snprintf(line, sizeof line, "  %-36s %s%s%s\n", flag_usage(s).c_str(), s.help.c_str(), choices_text(s).c_str(),
                  def.c_str());
    out += line;
  }
  return out;
}

std::string flag_of(const std::string& key) {
  std::string flag = key;
  for (auto& c : flag) c = c == '_' ? '-' : c;
  return flag;
}

}  // namespace pagedserve::cli
