#include "memory/block_manager.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

namespace pagedserve::memory {

BlockManager::BlockManager(const BlockManagerConfig& config)
    : config_(config), gpu_(config.num_gpu_blocks), cpu_(config.num_cpu_blocks) {
  if (config.block_size <= 0) throw std::invalid_argument("block_size must be positive");
  if (config.num_gpu_blocks <= 0) throw std::invalid_argument("num_gpu_blocks must be positive");
  if (config.watermark < 0 || config.watermark >= 1) throw std::invalid_argument("watermark must be in [0, 1)");
}

int BlockManager::blocks_for(std::int64_t num_tokens) const {
  return static_cast<int>((num_tokens + config_.block_size - 1) / config_.block_size);
}

// --- admission ----------------------------------------------------------------

std::string BlockManager::check_fits(std::int64_t prompt_len, std::int64_t max_new_tokens) const {
  if (prompt_len <= 0) return "the prompt is empty";
  if (max_new_tokens < 0) return "max_tokens must not be negative";
  std::int64_t total = prompt_len + max_new_tokens;
  if (config_.max_model_len > 0 && total > config_.max_model_len)
    return "the prompt (" + std::to_string(prompt_len) + " tokens) plus max_tokens (" +
           std::to_string(max_new_tokens) + ") exceeds the model's maximum length of " +
           std::to_string(config_.max_model_len) + " tokens";
  if (blocks_for(total) > config_.num_usable_gpu_blocks())
    return "the request needs " + std::to_string(blocks_for(total)) + " KV blocks of " +
           std::to_string(config_.block_size) + " tokens but the KV pool holds only " +
           std::to_string(config_.num_usable_gpu_blocks()) + " usable blocks";
  return "";
}

std::vector<std::int32_t> BlockManager::find_cached_prefix(std::span<const std::int32_t> prompt) const {
  std::vector<std::int32_t> hits;
  if (!config_.enable_prefix_caching) return hits;
  const int bs = config_.block_size;
  // At least the last prompt token is computed again, so the step has logits.
  const int cacheable = static_cast<int>((prompt.size() - 1) / bs);
  BlockHash parent = 0;
  for (int i = 0; i < cacheable; ++i) {
    auto tokens = prompt.subspan(static_cast<std::size_t>(i) * bs, bs);
    BlockHash h = hash_block(parent, tokens);
    auto block = gpu_.lookup(h, parent, tokens);
    if (!block) break;
    hits.push_back(*block);
    parent = h;
  }
  return hits;
}

bool BlockManager::can_never_hold(std::span<const std::int32_t> prompt) const {
  if (prompt.empty()) return true;
  if (blocks_for(static_cast<std::int64_t>(prompt.size())) > config_.num_usable_gpu_blocks()) return true;
  return config_.max_model_len > 0 && static_cast<int>(prompt.size()) > config_.max_model_len;
}

AllocStatus BlockManager::room_for(std::span<const std::int32_t> prompt, const std::vector<std::int32_t>& hits) const {
  // A hit on a free cached block still takes it out of the free queue.
  int consumed = blocks_for(static_cast<std::int64_t>(prompt.size())) - static_cast<int>(hits.size());
  for (auto b : hits) consumed += gpu_.block(b).ref_count == 0 ? 1 : 0;
  return gpu_.num_free() - consumed >= config_.watermark_blocks() ? AllocStatus::ok : AllocStatus::later;
}

AllocStatus BlockManager::can_allocate(std::span<const std::int32_t> prompt) const {
  if (can_never_hold(prompt)) return AllocStatus::never;
  return room_for(prompt, find_cached_prefix(prompt));
}

int BlockManager::allocate(SeqId seq, std::span<const std::int32_t> prompt) {
  const auto a = try_allocate(seq, prompt);
  if (a.status != AllocStatus::ok) throw std::logic_error("allocate() without room: check can_allocate()");
  return a.num_cached_tokens;
}

BlockManager::Allocation BlockManager::try_allocate(SeqId seq, std::span<const std::int32_t> prompt) {
  if (contains(seq)) throw std::logic_error("sequence " + std::to_string(seq) + " is already allocated");
  if (can_never_hold(prompt)) return {AllocStatus::never, 0};
  const auto hits = find_cached_prefix(prompt);
  const auto status = room_for(prompt, hits);
  if (status != AllocStatus::ok) return {status, 0};
  return {AllocStatus::ok, take_blocks(seq, prompt, hits)};
}

// Blocks for all of `prompt`: the cached prefix `hits`, then fresh ones.
int BlockManager::take_blocks(SeqId seq, std::span<const std::int32_t> prompt, const std::vector<std::int32_t>& hits) {
  SeqState s;
  s.tokens.assign(prompt.begin(), prompt.end());
  if (config_.enable_prefix_caching) {
    num_prefix_queries_ += static_cast<std::int64_t>((prompt.size() - 1) / config_.block_size);
    num_prefix_hits_ += static_cast<std::int64_t>(hits.size());
  }
  for (auto b : hits) {
    gpu_.acquire_cached(b);
    s.blocks.push_back(b);
    s.block_hashes.push_back(*gpu_.block(b).hash);
  }
  while (static_cast<int>(s.blocks.size()) < blocks_for(static_cast<std::int64_t>(prompt.size())))
    s.blocks.push_back(gpu_.allocate());
  s.num_computed = static_cast<int>(hits.size()) * config_.block_size;
  seqs_.emplace(seq, std::move(s));
  return static_cast<int>(hits.size()) * config_.block_size;
}

// --- growth ---------------------------------------------------------------------

bool BlockManager::can_append(SeqId seq, int num_tokens) const {
  const SeqState& s = state(seq);
  if (s.device != Device::gpu) return false;
  const int len = static_cast<int>(s.tokens.size());
  int needed = blocks_for(len + num_tokens) - static_cast<int>(s.blocks.size());
  bool last_partial = len % config_.block_size != 0;
  if (last_partial && gpu_.block(s.blocks.back()).ref_count > 1) ++needed;  // copy-on-write
  return gpu_.num_free() >= needed;
}

std::optional<BlockCopy> BlockManager::append(SeqId seq, std::span<const std::int32_t> tokens) {
  if (!can_append(seq, static_cast<int>(tokens.size())))
    throw std::logic_error("append() without room: check can_append()");
  SeqState& s = state(seq);
  std::optional<BlockCopy> cow;
  const int bs = config_.block_size;
  if (s.tokens.size() % bs != 0 && gpu_.block(s.blocks.back()).ref_count > 1) {
    // The last block is shared and partly filled: writing into it would
    // change what the other owners see, so this sequence gets its own copy.
    std::int32_t copy = gpu_.allocate();
    cow = BlockCopy{s.blocks.back(), copy};
    gpu_.release(s.blocks.back());
    s.blocks.back() = copy;
    ++num_cow_copies_;
  }
  for (std::int32_t t : tokens) {
    if (s.tokens.size() % bs == 0) s.blocks.push_back(gpu_.allocate());
    s.tokens.push_back(t);
  }
  return cow;
}

void BlockManager::mark_computed(SeqId seq, int num_computed) {
  SeqState& s = state(seq);
  if (num_computed < 0 || num_computed > static_cast<int>(s.tokens.size()))
    throw std::logic_error("mark_computed beyond the sequence's tokens");
  s.num_computed = std::max(s.num_computed, num_computed);
  if (config_.enable_prefix_caching && s.device == Device::gpu) register_computed_blocks(s);
}

void BlockManager::register_computed_blocks(SeqState& s) {
  const int bs = config_.block_size;
  const std::size_t full = static_cast<std::size_t>(s.num_computed / bs);
  while (s.block_hashes.size() < full) {
    std::size_t i = s.block_hashes.size();
    BlockHash parent = i == 0 ? 0 : s.block_hashes[i - 1];
    auto tokens = std::span<const std::int32_t>(s.tokens).subspan(i * bs, bs);
    BlockHash h = hash_block(parent, tokens);
    gpu_.insert_cached(s.blocks[i], h, parent, tokens);  // false: already cached elsewhere
    s.block_hashes.push_back(h);
  }
}

// --- sharing ----------------------------------------------------------------------

void BlockManager::fork(SeqId parent, SeqId child) {
  if (contains(child)) throw std::logic_error("fork into existing sequence " + std::to_string(child));
  SeqState copy = state(parent);
  for (auto b : copy.blocks) pool(copy.device).add_ref(b);
  seqs_.emplace(child, std::move(copy));
}

void BlockManager::free(SeqId seq) {
  SeqState& s = state(seq);
  // Tail blocks first: they join the free queue earlier and so are evicted
  // before the prefix blocks, which other requests are likelier to reuse.
  for (auto it = s.blocks.rbegin(); it != s.blocks.rend(); ++it) pool(s.device).release(*it);
  seqs_.erase(seq);
}

// --- swapping -----------------------------------------------------------------------

int BlockManager::count_unique_blocks(std::span<const SeqId> group, Device on) const {
  std::unordered_set<std::int32_t> unique;
  for (SeqId id : group) {
    const SeqState& s = state(id);
    if (s.device != on) throw std::logic_error("sequence " + std::to_string(id) + " is not where the swap expects it");
    unique.insert(s.blocks.begin(), s.blocks.end());
  }
  return static_cast<int>(unique.size());
}

bool BlockManager::can_swap_out(std::span<const SeqId> group) const {
  return count_unique_blocks(group, Device::gpu) <= cpu_.num_free();
}

AllocStatus BlockManager::can_swap_in(std::span<const SeqId> group) const {
  int needed = count_unique_blocks(group, Device::cpu);
  if (needed > config_.num_usable_gpu_blocks()) return AllocStatus::never;
  return gpu_.num_free() - needed >= config_.watermark_blocks() ? AllocStatus::ok : AllocStatus::later;
}

std::vector<BlockCopy> BlockManager::swap_out(std::span<const SeqId> group) {
  if (!can_swap_out(group)) throw std::logic_error("swap_out() without room: check can_swap_out()");
  num_swapped_out_blocks_ += count_unique_blocks(group, Device::gpu);
  return move_group(group, Device::gpu);
}

std::vector<BlockCopy> BlockManager::swap_in(std::span<const SeqId> group) {
  if (can_swap_in(group) != AllocStatus::ok) throw std::logic_error("swap_in() without room: check can_swap_in()");
  num_swapped_in_blocks_ += count_unique_blocks(group, Device::cpu);
  auto copies = move_group(group, Device::cpu);
  if (config_.enable_prefix_caching)
    for (SeqId id : group) register_computed_blocks(state(id));
  return copies;
}

// Moves every block of the group to the other pool. A block shared inside
// the group is copied once and stays shared; sharing with sequences outside
// the group simply drops one reference.
std::vector<BlockCopy> BlockManager::move_group(std::span<const SeqId> group, Device from) {
  const Device to = from == Device::gpu ? Device::cpu : Device::gpu;
  std::unordered_map<std::int32_t, std::int32_t> moved;  // source block -> target block
  std::vector<BlockCopy> copies;
  for (SeqId id : group) {
    SeqState& s = state(id);
    for (auto& b : s.blocks) {
      auto [it, first] = moved.emplace(b, 0);
      if (first) {
        it->second = pool(to).allocate();
        copies.push_back({b, it->second});
      } else {
        pool(to).add_ref(it->second);
      }
      pool(from).release(b);
      b = it->second;
    }
    s.device = to;
    s.block_hashes.clear();  // the new blocks are not in the cache (yet)
  }
  return copies;
}

// --- queries ------------------------------------------------------------------------

BlockManager::SeqState& BlockManager::state(SeqId seq) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) throw std::logic_error("unknown sequence " + std::to_string(seq));
  return it->second;
}

const BlockManager::SeqState& BlockManager::state(SeqId seq) const {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) throw std::logic_error("unknown sequence " + std::to_string(seq));
  return it->second;
}

Device BlockManager::location(SeqId seq) const { return state(seq).device; }
const std::vector<std::int32_t>& BlockManager::block_table(SeqId seq) const { return state(seq).blocks; }
const std::vector<std::int32_t>& BlockManager::tokens(SeqId seq) const { return state(seq).tokens; }
int BlockManager::num_tokens(SeqId seq) const { return static_cast<int>(state(seq).tokens.size()); }
int BlockManager::num_computed(SeqId seq) const { return state(seq).num_computed; }

std::int64_t BlockManager::slot(SeqId seq, int position) const {
  const SeqState& s = state(seq);
  if (position < 0 || position >= static_cast<int>(s.tokens.size()))
    throw std::logic_error("slot of a position the sequence does not have");
  const int bs = config_.block_size;
  return static_cast<std::int64_t>(s.blocks[position / bs]) * bs + position % bs;
}

std::vector<SeqId> BlockManager::seq_ids() const {
  std::vector<SeqId> ids;
  for (const auto& [id, s] : seqs_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

namespace {
PoolStats pool_stats(const BlockPool& pool) {
  PoolStats p;
  p.num_total = pool.num_blocks();
  p.num_free = pool.num_free();
  p.num_used = pool.num_used();
  for (int i = 0; i < pool.num_blocks(); ++i) {
    const Block& b = pool.block(i);
    p.num_cached += (b.ref_count == 0 && b.hash) ? 1 : 0;
    p.num_shared += b.ref_count > 1 ? 1 : 0;
  }
  return p;
}
}  // namespace

BlockManagerStats BlockManager::stats() const {
  BlockManagerStats st;
  st.gpu = pool_stats(gpu_);
  st.cpu = pool_stats(cpu_);
  // A shared block holds as many real tokens as its fullest owner wrote.
  std::vector<int> fill(gpu_.num_blocks(), 0);
  const int bs = config_.block_size;
  for (const auto& [id, s] : seqs_) {
    if (s.device != Device::gpu) continue;
    for (std::size_t i = 0; i < s.blocks.size(); ++i) {
      int in_block = std::min<int>(bs, static_cast<int>(s.tokens.size() - i * bs));
      fill[s.blocks[i]] = std::max(fill[s.blocks[i]], in_block);
    }
  }
  for (int f : fill) st.num_tokens_stored += f;
  st.num_token_slots = static_cast<std::int64_t>(st.gpu.num_used) * bs;
  st.num_cow_copies = num_cow_copies_;
  st.num_swapped_out_blocks = num_swapped_out_blocks_;
  st.num_swapped_in_blocks = num_swapped_in_blocks_;
  st.num_prefix_queries = num_prefix_queries_;
  st.num_prefix_hits = num_prefix_hits_;
  return st;
}

}  // namespace pagedserve::memory
