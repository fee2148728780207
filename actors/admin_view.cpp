#include "actors/admin_view.hpp"

#include "grammar/json_values.hpp"

#include <cstdio>
#include <sstream>

namespace pagedserve::actors {

std::string json_quote(const std::string& s) { return grammar::json::quote(s); }

std::vector<SeqOwner> seq_owners(const engine::Scheduler& scheduler) {
  std::vector<SeqOwner> owners;
  for (const auto* q : {&scheduler.running(), &scheduler.swapped(), &scheduler.waiting()})
    for (const auto& g : *q)
      for (const auto& s : g->seqs)
        if (!s->is_finished()) owners.push_back({s->seq_id, g->request_id(), s->index, engine::status_name(s->status)});
  return owners;
}

namespace {

void block_entry(std::ostringstream& o, const memory::BlockPool& pool, std::int32_t id) {
  const auto& b = pool.block(id);
  o << "{\"id\":" << id << ",\"ref_count\":" << b.ref_count << ",\"shared\":" << (b.ref_count > 1 ? "true" : "false")
    << ",\"cached\":" << (b.hash ? "true" : "false") << "}";
}

void seq_entry(std::ostringstream& o, const memory::BlockManager& blocks, const SeqOwner& s) {
  const bool on_gpu = blocks.location(s.seq_id) == memory::Device::gpu;
  const auto& pool = on_gpu ? blocks.gpu_pool() : blocks.cpu_pool();
  o << "{\"seq_id\":" << s.seq_id << ",\"request_id\":" << json_quote(s.request_id) << ",\"index\":" << s.index
    << ",\"status\":" << json_quote(s.status) << ",\"device\":\"" << (on_gpu ? "gpu" : "cpu")
    << "\",\"num_tokens\":" << blocks.num_tokens(s.seq_id) << ",\"num_computed\":" << blocks.num_computed(s.seq_id)
    << ",\"blocks\":[";
  const auto& table = blocks.block_table(s.seq_id);
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (i) o << ',';
    block_entry(o, pool, table[i]);
  }
  o << "]}";
}

void pool_entry(std::ostringstream& o, const memory::PoolStats& p, const memory::BlockPool& pool) {
  o << "{\"total\":" << p.num_total << ",\"free\":" << p.num_free << ",\"used\":" << p.num_used
    << ",\"cached\":" << p.num_cached << ",\"shared\":" << p.num_shared << ",\"ref_counts\":[";
  for (int i = 0; i < pool.num_blocks(); ++i) o << (i ? "," : "") << pool.block(i).ref_count;
  o << "]}";
}

std::string seqs_view(const memory::BlockManager& blocks, const std::vector<SeqOwner>& owners) {
  std::ostringstream o;
  o << "{\"block_size\":" << blocks.block_size() << ",\"seqs\":[";
  bool first = true;
  for (const auto& s : owners) {
    if (!blocks.contains(s.seq_id)) continue;  // waiting: no blocks yet
    if (!first) o << ',';
    first = false;
    seq_entry(o, blocks, s);
  }
  o << "]}";
  return o.str();
}

std::optional<std::string> one_seq_view(const std::string& id_text, const memory::BlockManager& blocks,
                                        const std::vector<SeqOwner>& owners) {
  for (const auto& s : owners) {
    if (std::to_string(s.seq_id) != id_text || !blocks.contains(s.seq_id)) continue;
    std::ostringstream o;
    seq_entry(o, blocks, s);
    return o.str();
  }
  return std::nullopt;
}

std::string pool_view(const memory::BlockManager& blocks) {
  const auto st = blocks.stats();
  std::ostringstream o;
  o << "{\"block_size\":" << blocks.block_size() << ",\"utilization\":" << st.utilization() << ",\"gpu\":";
  pool_entry(o, st.gpu, blocks.gpu_pool());
  o << ",\"cpu\":";
  pool_entry(o, st.cpu, blocks.cpu_pool());
  o << "}";
  return o.str();
}

std::string prefix_view(const memory::BlockManager& blocks) {
  const auto st = blocks.stats();
  const auto& pool = blocks.gpu_pool();
  std::ostringstream o;
  o << "{\"enabled\":" << (blocks.config().enable_prefix_caching ? "true" : "false")
    << ",\"num_cached_blocks\":" << pool.num_cached() << ",\"queries\":" << st.num_prefix_queries
    << ",\"hits\":" << st.num_prefix_hits << ",\"blocks\":[";
  bool first = true;
  for (int i = 0; i < pool.num_blocks(); ++i) {
    if (!pool.block(i).hash) continue;
    if (!first) o << ',';
    first = false;
    block_entry(o, pool, i);
  }
  o << "]}";
  return o.str();
}

void queue_entry(std::ostringstream& o, const char* name, const std::deque<std::shared_ptr<engine::SequenceGroup>>& q) {
  o << '"' << name << "\":[";
  for (std::size_t i = 0; i < q.size(); ++i) {
    const auto& g = *q[i];
    o << (i ? "," : "") << "{\"request_id\":" << json_quote(g.request_id()) << ",\"priority\":" << g.priority()
      << ",\"num_seqs\":" << g.num_live_seqs() << ",\"prompt_tokens\":" << g.prompt_len() << "}";
  }
  o << ']';
}

}  // namespace

std::optional<std::string> block_view(const std::string& view, const memory::BlockManager& blocks,
                                      const std::vector<SeqOwner>& owners) {
  if (view == "seqs") return seqs_view(blocks, owners);
  if (view.rfind("seq/", 0) == 0) return one_seq_view(view.substr(4), blocks, owners);
  if (view == "pool") return pool_view(blocks);
  if (view == "prefix") return prefix_view(blocks);
  return std::nullopt;
}

std::optional<std::string> scheduler_view(const std::string& view, const engine::Scheduler& scheduler) {
  std::ostringstream o;
  if (view == "queues") {
    o << '{';
    queue_entry(o, "running", scheduler.running());
    o << ',';
    queue_entry(o, "swapped", scheduler.swapped());
    o << ',';
    queue_entry(o, "waiting", scheduler.waiting());
    o << '}';
    return o.str();
  }
  if (view != "counters") return std::nullopt;
  const auto& c = scheduler.counters();
  o << "{\"num_steps\":" << c.num_steps << ",\"num_preemptions_swap\":" << c.num_preemptions_swap
    << ",\"num_preemptions_recompute\":" << c.num_preemptions_recompute
    << ",\"prompt_tokens_computed\":" << c.num_prefill_tokens << ",\"generation_tokens_computed\":" << c.num_decode_tokens
    << ",\"num_rejected\":" << c.num_rejected << "}";
  return o.str();
}

}  // namespace pagedserve::actors
