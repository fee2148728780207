#include "net/admin_json.hpp"

#include <charconv>
#include <type_traits>

#include "net/json_writer.hpp"

namespace pagedserve::net {

namespace {

using actors::AdminView;

std::optional<actors::AdminQuery> seq_query(std::string_view id_text) {
  memory::SeqId id = 0;
  if (id_text.empty() || id_text.front() < '0' || id_text.front() > '9') return std::nullopt;  // no sign
  const auto* end = id_text.data() + id_text.size();
  const auto [ptr, ec] = std::from_chars(id_text.data(), end, id);
  if (ec != std::errc{} || ptr != end || std::to_string(id) != id_text) return std::nullopt;
  return actors::AdminQuery{AdminView::seq, id};
}

void write_block(JsonWriter& w, const actors::BlockSnapshot& b) {
  w.begin_object().field("id", b.id).field("ref_count", b.ref_count).field("shared", b.ref_count > 1);
  w.field("cached", b.cached).end_object();
}

void write_blocks(JsonWriter& w, const std::vector<actors::BlockSnapshot>& blocks) {
  w.key("blocks").begin_array();
  for (const auto& b : blocks) write_block(w, b);
  w.end_array();
}

void write_seq(JsonWriter& w, const actors::SeqSnapshot& s) {
  w.begin_object().field("seq_id", s.seq_id).field("request_id", s.request_id).field("index", s.index);
  w.field("status", s.status).field("device", s.on_gpu ? "gpu" : "cpu").field("num_tokens", s.num_tokens);
  w.field("num_computed", s.num_computed);
  write_blocks(w, s.blocks);
  w.end_object();
}

void write(JsonWriter& w, const actors::SeqsSnapshot& s) {
  w.begin_object().field("block_size", s.block_size).key("seqs").begin_array();
  for (const auto& seq : s.seqs) write_seq(w, seq);
  w.end_array().end_object();
}

void write(JsonWriter& w, const actors::SeqSnapshot& s) { write_seq(w, s); }

void write_pool(JsonWriter& w, const memory::PoolStats& p, const std::vector<std::int32_t>& ref_counts) {
  w.begin_object().field("total", p.num_total).field("free", p.num_free).field("used", p.num_used);
  w.field("cached", p.num_cached).field("shared", p.num_shared).key("ref_counts").int_array(ref_counts);
  w.end_object();
}

void write(JsonWriter& w, const actors::PoolsSnapshot& s) {
  // Six significant digits, as the view has always written it.
  w.begin_object().field("block_size", s.block_size).key("utilization").value(s.stats.utilization(), 6);
  w.key("gpu");
  write_pool(w, s.stats.gpu, s.gpu_ref_counts);
  w.key("cpu");
  write_pool(w, s.stats.cpu, s.cpu_ref_counts);
  w.end_object();
}

void write(JsonWriter& w, const actors::PrefixCacheSnapshot& s) {
  w.begin_object().field("enabled", s.enabled).field("num_cached_blocks", s.num_cached_blocks);
  w.field("queries", s.queries).field("hits", s.hits);
  write_blocks(w, s.blocks);
  w.end_object();
}

void write_queue(JsonWriter& w, std::string_view name, const std::vector<actors::QueuedRequest>& queue) {
  w.key(name).begin_array();
  for (const auto& r : queue) {
    w.begin_object().field("request_id", r.request_id).field("priority", r.priority).field("num_seqs", r.num_seqs);
    w.field("prompt_tokens", r.prompt_tokens).end_object();
  }
  w.end_array();
}

void write(JsonWriter& w, const actors::QueuesSnapshot& s) {
  w.begin_object();
  write_queue(w, "running", s.running);
  write_queue(w, "swapped", s.swapped);
  write_queue(w, "waiting", s.waiting);
  w.end_object();
}

void write(JsonWriter& w, const engine::SchedulerCounters& c) {
  w.begin_object().field("num_steps", c.num_steps).field("num_preemptions_swap", c.num_preemptions_swap);
  w.field("num_preemptions_recompute", c.num_preemptions_recompute);
  w.field("prompt_tokens_computed", c.num_prefill_tokens).field("generation_tokens_computed", c.num_decode_tokens);
  w.field("num_rejected", c.num_rejected).end_object();
}

}  // namespace

std::optional<actors::AdminQuery> admin_query(std::string_view view) {
  if (view == "seqs") return actors::AdminQuery{AdminView::seqs, 0};
  if (view == "pool") return actors::AdminQuery{AdminView::pool, 0};
  if (view == "prefix") return actors::AdminQuery{AdminView::prefix, 0};
  if (view == "queues") return actors::AdminQuery{AdminView::queues, 0};
  if (view == "counters") return actors::AdminQuery{AdminView::counters, 0};
  if (view.substr(0, 4) == "seq/") return seq_query(view.substr(4));
  return std::nullopt;
}

std::optional<std::string> admin_json(const actors::AdminSnapshot& snapshot) {
  return std::visit(
      [](const auto& view) -> std::optional<std::string> {
        using T = std::decay_t<decltype(view)>;
        if constexpr (std::is_same_v<T, actors::NotLive>) {
          return std::nullopt;
        } else {
          JsonWriter w;
          write(w, view);
          return w.take();
        }
      },
      snapshot.view);
}

}  // namespace pagedserve::net
