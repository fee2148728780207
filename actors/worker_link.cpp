#include "actors/worker_link.hpp"

#include <stdexcept>

namespace pagedserve::actors {

HostPort parse_host_port(const std::string& text, const std::string& what) {
  const auto bad = [&](const std::string& why) {
    return std::invalid_argument(what + " '" + text + "': " + why + " (expected HOST:PORT)");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) throw bad("no host");
  std::string host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') throw bad("an unclosed [IPv6] address");
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    throw bad("the port is not a number");
  const int n = std::stoi(port);
  if (n < 1 || n > 65535) throw bad("the port must be in [1, 65535]");
  return {host, static_cast<std::uint16_t>(n)};
}

ModelShape shape_of(const model::ModelConfig& c) {
  return {c.name,       c.architecture, c.dim,         c.hidden_dim,     c.num_layers, c.num_heads, c.num_kv_heads,
          c.head_size,  c.vocab_size,   c.max_seq_len, c.sliding_window, c.bos_id,     c.eos_ids};
}

namespace {

std::optional<std::string> differs(const char* field, const auto& server, const auto& worker) {
  if (server == worker) return std::nullopt;
  return std::string(field);
}

}  // namespace

std::optional<std::string> shape_mismatch(const ModelShape& s, const ModelShape& w) {
  for (auto d : {differs("name", s.name, w.name), differs("architecture", s.architecture, w.architecture),
                 differs("dim", s.dim, w.dim), differs("hidden_dim", s.hidden_dim, w.hidden_dim),
                 differs("num_layers", s.num_layers, w.num_layers), differs("num_heads", s.num_heads, w.num_heads),
                 differs("num_kv_heads", s.num_kv_heads, w.num_kv_heads),
                 differs("head_size", s.head_size, w.head_size), differs("vocab_size", s.vocab_size, w.vocab_size),
                 differs("max_seq_len", s.max_seq_len, w.max_seq_len),
                 differs("sliding_window", s.sliding_window, w.sliding_window), differs("bos_id", s.bos_id, w.bos_id),
                 differs("eos_ids", s.eos_ids, w.eos_ids)})
    if (d) return d;
  return std::nullopt;
}

ExecutorSetup executor_setup(const EngineConfig& c, int max_model_len, const grammar::Vocabulary& vocabulary) {
  ExecutorSetup s;
  s.dtype = c.dtype;
  s.simple_attention = c.simple_attention;
  s.enforce_eager = c.enforce_eager;
  s.block_size = c.block_size;
  s.num_gpu_blocks = c.num_gpu_blocks;
  s.gpu_memory_utilization = c.gpu_memory_utilization;
  s.swap_space_gib = c.swap_space_gib;
  s.max_num_seqs = c.max_num_seqs;
  s.max_num_batched_tokens = c.max_num_batched_tokens;
  s.max_model_len = max_model_len;
  s.token_bytes.reserve(static_cast<std::size_t>(vocabulary.size()));
  for (std::int32_t id = 0; id < vocabulary.size(); ++id) s.token_bytes.emplace_back(vocabulary.bytes(id));
  s.eos_ids = vocabulary.eos_ids();
  return s;
}

std::shared_ptr<const grammar::Vocabulary> setup_vocabulary(const ExecutorSetup& setup, int vocab_size) {
  if (static_cast<int>(setup.token_bytes.size()) != vocab_size)
    throw std::invalid_argument("the server's vocabulary has " + std::to_string(setup.token_bytes.size()) +
                                " tokens, the model " + std::to_string(vocab_size));
  return std::make_shared<const grammar::Vocabulary>(setup.token_bytes, setup.eos_ids);
}

}  // namespace pagedserve::actors
