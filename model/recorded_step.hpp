#pragma once
// The shape of a recorded decode step (kernels::Backend's CUDA graphs): a
// recording replays the same launches with the same sizes, so a batch is
// padded to one of a few sizes and its block tables to one width.

#include "kernels/batch.hpp"

namespace pagedserve::model {

// One new token per sequence and every sequence's logits, in order.
bool is_plain_decode(const kernels::BatchMetadata& meta);

// The recorded size that holds n sequences: the next power of two.
int recorded_batch_size(int n);

// `meta` padded to `seqs` sequences with block tables `table_width` wide.
// The added sequences decode token 0 at position 0, write no K/V (slot -1),
// read block 0, and their logits rows are computed and never read.
kernels::BatchMetadata pad_decode_batch(const kernels::BatchMetadata& meta, int seqs, int table_width);

}  // namespace pagedserve::model
