#pragma once
// The OpenAI response shapes, as JSON text: text_completion bodies and
// stream chunks, chat.completion bodies and chat.completion.chunk deltas.
// Plain functions of plain data, so the schema is tested without a server.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pagedserve::net {

// One generated token as logprobs report it.
struct LogprobEntry {
  std::string token;  // its text (or "token_id:N" when asked for ids)
  float logprob = 0;
  std::vector<std::pair<std::string, float>> top;  // best alternatives, descending
  std::size_t text_offset = 0;  // where its text starts in the choice's text
};

// One choice of a response as it accumulates.
struct Choice {
  std::string text;
  std::vector<LogprobEntry> logprobs;
  std::string finish_reason;  // "" while running
  int num_tokens = 0;
};

struct ResponseMeta {
  std::string id;  // cmpl-... / chatcmpl-...
  std::int64_t created = 0;
  std::string model;
};

struct Usage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
  int cached_tokens = 0;  // prompt tokens whose KV blocks came from the prefix cache
};

// {"id","object":"text_completion","created","model","choices":[...],"usage"}
std::string completion_body(const ResponseMeta& meta, const std::vector<Choice>& choices, bool with_logprobs,
                            const Usage& usage);
// One streamed piece of choice `index`: its new text, the logprobs of its new
// token (or none), and the finish reason once it ends ("" -> null).
std::string completion_chunk(const ResponseMeta& meta, int index, std::string_view text, const LogprobEntry* logprob,
                             std::string_view finish_reason);

// {"id","object":"chat.completion",...,"choices":[{"index","message":{"role","content"},"logprobs","finish_reason"}]}
std::string chat_body(const ResponseMeta& meta, const std::vector<Choice>& choices, bool with_logprobs, const Usage& usage);
// A chat.completion.chunk: `role` is set on a choice's first chunk only;
// `content` "" and no logprob and no finish reason gives an empty delta.
std::string chat_chunk(const ResponseMeta& meta, int index, std::string_view role, std::string_view content,
                       const LogprobEntry* logprob, std::string_view finish_reason);

// The closing chunk of a stream that asked for usage: "choices": [] and the totals.
std::string usage_chunk(const ResponseMeta& meta, std::string_view object, const Usage& usage);

}  // namespace pagedserve::net
