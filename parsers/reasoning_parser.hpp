#pragma once
// The reasoning of models that think in <think>...</think> before they
// answer (Qwen3, DeepSeek-R1 and their distillations), split from the
// answer as `reasoning_content` and `content`, whole or streamed.
//
// The output starts inside the reasoning when the model writes <think>
// first, or when the chat template already opened it at the end of the
// prompt (then the output holds only the closing </think>). Leading
// whitespace of each part is dropped: the model writes "\n" after <think>
// and "\n\n" after </think> as layout, not as text. Output that ends while
// still thinking (max_tokens) is all reasoning, streamed or not.

#include <string>
#include <string_view>

namespace pagedserve::parsers {

inline constexpr std::string_view kThinkOpen = "<think>";
inline constexpr std::string_view kThinkClose = "</think>";

struct ReasoningSplit {
  std::string reasoning;
  std::string content;
};

// True when `prompt` ends inside an open <think> (the template opened it).
bool prompt_opens_reasoning(std::string_view prompt);

class ReasoningStream {
 public:
  explicit ReasoningStream(bool starts_inside);

  // The part of the text seen so far that is decided; the rest is held.
  ReasoningSplit feed(std::string_view text);
  // The end of the output: everything held, where it belongs.
  ReasoningSplit finish();

 private:
  enum class State { before, reasoning, content };
  void decide_start(ReasoningSplit& out);
  void emit(std::string_view text, ReasoningSplit& out);

  State state_;
  bool part_started_ = false;  // a non-space character of the current part was emitted
  std::string held_;
};

// A whole output at once: the same split as streaming it.
ReasoningSplit split_reasoning(std::string_view output, bool starts_inside);

}  // namespace pagedserve::parsers
