#pragma once
// The prefix cache's block hash: SipHash-2-4 under a key drawn at random once
// per process.
//
// A client chooses the tokens of its prompt. With an unkeyed hash it can
// compute offline a block that collides with a popular one (a shared system
// prompt) and plant it first; the real block then never enters the cache.
// SipHash is a pseudorandom function of its key: without the key, finding a
// collision is no easier than guessing (2^64 work, 2^32 for any pair).
// Lookups still compare tokens, so even a true collision is only a miss.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace pagedserve::memory {

using BlockHash = std::uint64_t;
using SipKey = std::array<std::uint64_t, 2>;

// SipHash-2-4 of `bytes` (the reference function, checked against its
// published test vectors).
std::uint64_t siphash24(const SipKey& key, std::span<const std::byte> bytes);

// Hash of a full block under `key`: its parent block's hash and its own token ids.
BlockHash hash_block(const SipKey& key, BlockHash parent, std::span<const std::int32_t> tokens);

// The same under this process's key (random, drawn on first use).
BlockHash hash_block(BlockHash parent, std::span<const std::int32_t> tokens);

// This process's key, from std::random_device (hardware or kernel randomness).
const SipKey& process_hash_key();

}  // namespace pagedserve::memory
