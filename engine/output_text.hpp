#pragma once
// The text side of one sample as it streams: detokenizes token by token,
// finds stop strings, and holds back token events whose text might still
// turn out to be the start of a stop string (the stop string itself is
// never sent).
//
//   text:    "... the end" + "of" ...      stop = ["endoftext"]
//   held:    events whose text lies in the suffix "end", "end" + "of", ...
//   ready:   everything before that suffix
//
// Invariants: the texts of released plus held events concatenate to text();
// a released event never carries text from a stop string.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/request.hpp"
#include "model/tokenizer.hpp"

namespace pagedserve::engine {

class OutputText {
 public:
  // `tokenizer` may be null (no text, no stop strings); `prev` is the token
  // the output follows (the last prompt token).
  OutputText(const model::Tokenizer* tokenizer, std::int32_t prev, std::vector<std::string> stop);

  // Adds the event of a new token (its text is filled in here). True when a
  // stop string completed: the text is cut where it starts.
  bool push(TokenEvent event);
  // Moves the events whose text is final to `out`.
  void take_ready(std::vector<Event>& out);
  // The sample ended: releases every held event.
  void finish(std::vector<Event>& out);

  const std::string& text() const { return text_; }

 private:
  std::size_t held_suffix_length() const;
  void cut_at(std::size_t end);

  std::optional<model::IncrementalDecoder> decoder_;
  std::vector<std::string> stop_;
  std::string text_;
  std::size_t num_released_chars_ = 0;
  std::vector<TokenEvent> held_;
  bool stopped_ = false;
};

}  // namespace pagedserve::engine
