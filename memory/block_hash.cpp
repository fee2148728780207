#include "memory/block_hash.hpp"

#include <bit>
#include <cstring>
#include <random>
#include <vector>

namespace pagedserve::memory {

namespace {

static_assert(std::endian::native == std::endian::little, "SipHash reads little-endian words");

// The four-word SipHash state and its round function.
struct SipState {
  std::uint64_t v0, v1, v2, v3;

  explicit SipState(const SipKey& k)
      : v0(k[0] ^ 0x736f6d6570736575ULL), v1(k[1] ^ 0x646f72616e646f6dULL),
        v2(k[0] ^ 0x6c7967656e657261ULL), v3(k[1] ^ 0x7465646279746573ULL) {}

  void round() {
    v0 += v1; v1 = std::rotl(v1, 13); v1 ^= v0; v0 = std::rotl(v0, 32);
    v2 += v3; v3 = std::rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = std::rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = std::rotl(v1, 17); v1 ^= v2; v2 = std::rotl(v2, 32);
  }
  void absorb(std::uint64_t m) {  // two compression rounds per word
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  std::uint64_t finish() {  // four finalization rounds
    v2 ^= 0xff;
    round(); round(); round(); round();
    return v0 ^ v1 ^ v2 ^ v3;
  }
};

std::uint64_t load_le(const std::byte* p, std::size_t n) {
  std::uint64_t w = 0;
  std::memcpy(&w, p, n);
  return w;
}

}  // namespace

std::uint64_t siphash24(const SipKey& key, std::span<const std::byte> bytes) {
  SipState s(key);
  const std::size_t full = bytes.size() / 8 * 8;
  for (std::size_t i = 0; i < full; i += 8) s.absorb(load_le(bytes.data() + i, 8));
  // The last word carries the leftover bytes and the length in its top byte.
  s.absorb(load_le(bytes.data() + full, bytes.size() - full) | (static_cast<std::uint64_t>(bytes.size()) << 56));
  return s.finish();
}

BlockHash hash_block(const SipKey& key, BlockHash parent, std::span<const std::int32_t> tokens) {
  // parent (8 bytes) then the tokens (4 bytes each), as one message, built on
  // the stack for blocks up to the largest block_size setting.
  constexpr std::size_t kMaxTokens = 1024;
  std::byte inline_buf[8 + 4 * kMaxTokens];
  std::vector<std::byte> heap_buf;
  const std::size_t n = 8 + 4 * tokens.size();
  std::byte* buf = inline_buf;
  if (tokens.size() > kMaxTokens) {
    heap_buf.resize(n);
    buf = heap_buf.data();
  }
  std::memcpy(buf, &parent, 8);
  std::memcpy(buf + 8, tokens.data(), 4 * tokens.size());
  return siphash24(key, std::span<const std::byte>(buf, n));
}

BlockHash hash_block(BlockHash parent, std::span<const std::int32_t> tokens) {
  return hash_block(process_hash_key(), parent, tokens);
}

const SipKey& process_hash_key() {
  static const SipKey key = [] {
    std::random_device os_random;  // the CPU's or the kernel's random source
    auto word = [&] { return (static_cast<std::uint64_t>(os_random()) << 32) | os_random(); };
    return SipKey{word(), word()};
  }();
  return key;
}

}  // namespace pagedserve::memory
