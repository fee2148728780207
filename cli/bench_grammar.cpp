// `pagedserve bench grammar`: what constrained decoding costs. For a nested
// JSON Schema: its compile time; the allowed-token mask time per token over
// a tokenizer's vocabulary and over a synthetic 128k-token byte-level one,
// at each batch size, first with a fresh mask cache (cold) and then with
// the cache a served schema has (warm), and the time a matcher takes to
// advance by the drawn token; and decode tokens/s of a model with
// and without the constraint, measured in the same run, the constrained run
// both with its masks computed beside the forward pass (the executor's
// default) and after it (serial).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>

#include "cli/args.hpp"
#include "cli/bench.hpp"
#include "engine/generator.hpp"
#include "grammar/json_schema.hpp"
#include "grammar/token_grammar_pool.hpp"
#include "kernels/backend.hpp"
#include "model/llama2c_tokenizer.hpp"
#include "model/loader.hpp"
#include "model/token_vocabulary.hpp"
#include "net/json_writer.hpp"

namespace pagedserve::cli {

namespace {

constexpr const char* kHelp = R"(usage: pagedserve bench grammar [options]

  --tokenizer PATH   llama2.c tokenizer.bin whose vocabulary is masked (default
                     models/stories260K/tok512.bin; Llama 2's has 32000 tokens)
  --model PATH       model decoded with and without the constraint (default
                     dummy:stories15M for a 32000-token tokenizer, else
                     dummy:stories260K)
  --batch LIST       batch sizes (default 1,64)
  --tokens N         tokens per sequence (default 128)
  --json             one JSON line
)";

// A record of a person: nested objects, arrays of objects and enums,
// optional fields, bounded strings, a pattern, a nullable number.
constexpr const char* kSchema = R"({"type":"object","properties":{
  "name":{"type":"string","maxLength":24},
  "age":{"type":"integer"},
  "email":{"type":"string","pattern":"^[a-z0-9.]{1,16}@[a-z]{1,12}\\.(com|org)$"},
  "address":{"type":"object","properties":{"street":{"type":"string","maxLength":32},"city":{"type":"string","maxLength":20},
    "zip":{"type":"string","pattern":"^[0-9]{5}$"}},"required":["street","city"],"additionalProperties":false},
  "tags":{"type":"array","items":{"enum":["admin","user","guest","owner"]},"maxItems":4},
  "friends":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string","maxLength":16},
    "id":{"type":"integer"}},"required":["name","id"],"additionalProperties":false},"maxItems":3},
  "active":{"type":"boolean"},
  "score":{"type":["number","null"]}},
  "required":["name","age","address","active"],"additionalProperties":false})";

using Clock = std::chrono::steady_clock;
double us_since(Clock::time_point t) { return std::chrono::duration<double, std::micro>(Clock::now() - t).count(); }

// 256 single bytes, then distinct multi-byte strings in the proportions a
// byte-level BPE vocabulary has: words with and without a leading space,
// punctuation runs, digits, and non-ASCII text.
std::shared_ptr<const grammar::Vocabulary> synthetic_vocabulary(int size) {
  std::mt19937 rng(2024);
  std::vector<std::string> tokens{""};  // 0: end of sequence
  for (int b = 0; b < 256; ++b) tokens.push_back(std::string(1, static_cast<char>(b)));
  const std::vector<std::string> pieces = {"e", "t", "a", "o", "i", "n", "s", "h", "r", "d", "l", "u", "c", "m", "w", "y",
                                           "\"", ":", ",", "{", "}", "[", "]", "0", "1", "7", ".", "-", "_", "é", "ß", "猫"};
  std::set<std::string> seen(tokens.begin() + 1, tokens.end());
  while (static_cast<int>(tokens.size()) < size) {
    std::string t = rng() % 2 ? " " : "";
    const int len = 1 + static_cast<int>(rng() % 9);
    for (int k = 0; k < len; ++k) t += pieces[rng() % (k == 0 ? pieces.size() : 16)];
    if (seen.insert(t).second) tokens.push_back(t);
  }
  return std::make_shared<const grammar::Vocabulary>(std::move(tokens), std::vector<std::int32_t>{0});
}

struct MaskTiming {
  int batch = 0;
  double cold_us = 0, warm_us = 0;  // per mask (one token of one sequence)
  double warm_step_us = 0;          // all masks of one step of the batch
  double advance_us = 0;            // per token: the matcher taking the drawn token (warm)
  long masks = 0;
};

// What one pass of `walk` measured, µs per token.
struct WalkTiming {
  double mask_us = 0, advance_us = 0;
};

// `batch` sequences walk the grammar together, each drawing uniformly
// among its allowed tokens, for up to `tokens` steps.
WalkTiming walk(grammar::TokenGrammarPool& pool, const grammar::Constraint& c, int batch, int tokens, unsigned seed, long& masks) {
  std::mt19937 rng(seed);
  std::vector<grammar::TokenMatcher> seqs;
  for (int i = 0; i < batch; ++i) seqs.push_back(pool.matcher(c));
  std::vector<bool> done(static_cast<std::size_t>(batch), false);
  std::vector<std::uint32_t> mask(grammar::mask_words(pool.vocabulary().size()));
  std::vector<std::int32_t> allowed;
  double total = 0, advancing = 0;
  long advances = 0;
  masks = 0;
  for (int step = 0; step < tokens; ++step)
    for (int i = 0; i < batch; ++i) {
      if (done[static_cast<std::size_t>(i)]) continue;
      const auto start = Clock::now();
      seqs[static_cast<std::size_t>(i)].fill_mask(mask);
      total += us_since(start);
      ++masks;
      allowed.clear();
      for (std::int32_t t = 0; t < pool.vocabulary().size(); ++t)
        if ((mask[static_cast<std::size_t>(t) >> 5] >> (t & 31)) & 1) allowed.push_back(t);
      const std::int32_t pick = allowed[rng() % allowed.size()];
      if (pool.vocabulary().is_eos(pick)) {
        done[static_cast<std::size_t>(i)] = true;
        continue;
      }
      const auto accepting = Clock::now();
      seqs[static_cast<std::size_t>(i)].accept(pick);
      advancing += us_since(accepting);
      ++advances;
    }
  return {masks ? total / static_cast<double>(masks) : 0, advances ? advancing / static_cast<double>(advances) : 0};
}

MaskTiming time_masks(std::shared_ptr<const grammar::Vocabulary> vocab, const grammar::Constraint& c, int batch, int tokens) {
  grammar::TokenGrammarPool pool(std::move(vocab));  // fresh: nothing cached
  MaskTiming t;
  t.batch = batch;
  t.cold_us = walk(pool, c, batch, tokens, 1, t.masks).mask_us;
  long warm_masks = 0;
  const WalkTiming warm = walk(pool, c, batch, tokens, 2, warm_masks);  // other draws, the same schema served again
  t.warm_us = warm.mask_us;
  t.advance_us = warm.advance_us;
  t.warm_step_us = t.warm_us * static_cast<double>(warm_masks) / tokens;
  return t;
}

double compile_ms() {
  const auto start = Clock::now();
  constexpr int kRuns = 20;
  for (int i = 0; i < kRuns; ++i) grammar::lower(grammar::json_schema_rules(kSchema));
  return us_since(start) / 1000.0 / kRuns;
}

struct Throughput {
  double plain = 0, constrained = 0, constrained_serial = 0;  // tokens/s
};

enum class Decode { plain, constrained, constrained_serial };

// Decodes `batch` sequences and returns tokens/s. Constrained, each ends
// with its grammar (or at `tokens`); plain, each runs exactly as many
// tokens as `lengths` says (end-of-sequence ignored), so both runs do the
// same model work and differ only by the constraint.
double decode_rate(model::LlamaModel& llama, const model::Tokenizer& tok, std::shared_ptr<const grammar::Vocabulary> vocab,
                   int tokens, std::vector<int>& lengths, Decode mode) {
  const bool constrained = mode != Decode::plain;
  const int batch = static_cast<int>(lengths.size());
  std::vector<engine::GenerationRequest> requests(static_cast<std::size_t>(batch));
  for (int i = 0; i < batch; ++i) {
    auto& r = requests[static_cast<std::size_t>(i)];
    r.prompt_ids = tok.encode("Here is the record:", true);
    r.params.temperature = 1;
    r.params.seed = static_cast<std::uint64_t>(i);
    r.params.max_tokens = constrained ? tokens : lengths[static_cast<std::size_t>(i)];
    r.params.ignore_eos = !constrained;
    if (constrained) r.params.constraint = {"json_schema", kSchema};
  }
  engine::GeneratorConfig config;
  config.blocks.num_gpu_blocks = batch * ((tokens + 32) / config.blocks.block_size + 2);
  config.blocks.watermark = 0;
  auto executor = std::make_shared<engine::ModelExecutor>(llama, config.blocks.num_gpu_blocks, 0, config.blocks.block_size);
  executor->set_vocabulary(std::move(vocab));
  executor->set_overlap_masks(mode != Decode::constrained_serial);
  engine::Generator gen(llama.config(), executor, &tok, config);
  const auto start = Clock::now();
  const auto results = gen.generate(requests);
  const double seconds = us_since(start) / 1e6;
  if (mode == Decode::constrained)
    for (int i = 0; i < batch; ++i) lengths[static_cast<std::size_t>(i)] = static_cast<int>(results[static_cast<std::size_t>(i)].output_ids.size());
  return static_cast<double>(gen.stats().num_generated_tokens) / seconds;
}

// Alternating runs, best of three each: a shared machine's noise slows a
// run, it never speeds one up.
Throughput time_decode(model::LlamaModel& llama, const model::Tokenizer& tok, const std::shared_ptr<const grammar::Vocabulary>& vocab,
                       int batch, int tokens) {
  Throughput t;
  std::vector<int> lengths(static_cast<std::size_t>(batch), 4);
  decode_rate(llama, tok, vocab, 4, lengths, Decode::constrained);  // warm-up: thread pools, the compiled schema
  for (int i = 0; i < 3; ++i) {
    t.constrained = std::max(t.constrained, decode_rate(llama, tok, vocab, tokens, lengths, Decode::constrained));
    t.constrained_serial = std::max(t.constrained_serial, decode_rate(llama, tok, vocab, tokens, lengths, Decode::constrained_serial));
    t.plain = std::max(t.plain, decode_rate(llama, tok, vocab, tokens, lengths, Decode::plain));
  }
  return t;
}

// stories15M's shape for a 32000-token tokenizer, else the 512-token one's.
std::string default_model(const std::string& tokenizer_path) {
  try {
    model::Llama2cTokenizer(tokenizer_path, 32000);
    return "dummy:stories15M";
  } catch (const std::exception&) {
    return "dummy:stories260K";
  }
}

}  // namespace

int run_bench_grammar(int argc, char** argv) {
  Args args(argc, argv, {"json", "help"});
  if (args.answered_help(kHelp)) return 0;
  args.reject_unknown({"tokenizer", "model", "batch", "tokens", "json", "help"});
  const std::string tok_path = args.get_or("tokenizer", "models/stories260K/tok512.bin");
  const auto batches = parse_batch_list(args.get_or("batch", "1,64"));
  const int tokens = static_cast<int>(args.get_int("tokens", 128, 8, 4096));
  const grammar::Constraint schema{"json_schema", kSchema};

  const std::string model_path = args.get_or("model", default_model(tok_path));
  auto loaded = model::load_model(model_path, model::LoadOptions{tok_path});
  auto backend = kernels::make_backend("cpu", {});
  model::LlamaModel llama(loaded.config, loaded.weights, *backend);
  const model::Tokenizer& tok = *loaded.tokenizer;

  const double compile = compile_ms();
  struct VocabRun {
    std::string name;
    int size;
    std::vector<MaskTiming> timings;
  };
  std::vector<VocabRun> vocabs;
  const auto tok_vocab = model::grammar_vocabulary(tok, loaded.config.vocab_size, loaded.config.eos_ids);
  for (auto [name, vocab] : {std::make_pair(tok_path, tok_vocab),
                             std::make_pair(std::string("synthetic byte-level"), synthetic_vocabulary(128000))}) {
    VocabRun run{name, vocab->size(), {}};
    for (int b : batches) run.timings.push_back(time_masks(vocab, schema, b, tokens));
    vocabs.push_back(std::move(run));
  }
  std::vector<std::pair<int, Throughput>> decode;
  for (int b : batches) decode.emplace_back(b, time_decode(llama, tok, tok_vocab, b, tokens));

  if (args.flag("json")) {
    net::JsonWriter w;
    w.begin_object().field("model", model_path).field("tokens", tokens).field("compile_ms", compile).key("masks").begin_array();
    for (const auto& v : vocabs)
      for (const auto& t : v.timings)
        w.begin_object().field("vocabulary", v.name).field("vocab_size", v.size).field("batch", t.batch).field("cold_us", t.cold_us)
            .field("warm_us", t.warm_us).field("warm_step_us", t.warm_step_us).field("advance_us", t.advance_us)
            .field("masks", static_cast<std::int64_t>(t.masks)).end_object();
    w.end_array().key("decode").begin_array();
    for (const auto& [b, t] : decode)
      w.begin_object().field("batch", b).field("plain_tokens_per_s", t.plain).field("constrained_tokens_per_s", t.constrained)
          .field("constrained_serial_tokens_per_s", t.constrained_serial).end_object();
    w.end_array().end_object();
    std::printf("%s\n", w.str().c_str());
    return 0;
  }
  std::printf("nested JSON schema: compiles in %.3f ms\n\nmask and matcher advance time per token (µs)\n", compile);
  std::printf("%-34s %8s %6s %10s %10s %14s %10s\n", "vocabulary", "tokens", "batch", "cold", "warm", "warm per step", "advance");
  for (const auto& v : vocabs)
    for (const auto& t : v.timings)
      std::printf("%-34s %8d %6d %10.2f %10.2f %14.1f %10.2f\n", v.name.c_str(), v.size, t.batch, t.cold_us, t.warm_us, t.warm_step_us,
                  t.advance_us);
  std::printf("\ndecode %s, up to %d tokens per sequence (plain runs match the constrained lengths), best of 3 (tokens/s)\n", model_path.c_str(), tokens);
  std::printf("constrained: masks beside the forward pass; serial: masks after it, on the executor thread\n");
  std::printf("%6s %12s %12s %10s %12s %10s\n", "batch", "plain", "constrained", "cost", "serial", "cost");
  for (const auto& [b, t] : decode)
    std::printf("%6d %12.1f %12.1f %9.1f%% %12.1f %9.1f%%\n", b, t.plain, t.constrained, 100.0 * (1.0 - t.constrained / t.plain),
                t.constrained_serial, 100.0 * (1.0 - t.constrained_serial / t.plain));
  return 0;
}

}  // namespace pagedserve::cli
