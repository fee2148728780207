#pragma once
// Answers POST /v1/completions and POST /v1/chat/completions on an
// HttpSession: parses the body, tokenizes on the blocking pool, starts the
// Generation, and turns its events into one JSON body or an SSE stream.
// A client that leaves, or reads a stream too slowly, gets its request
// cancelled (its KV blocks are freed at the engine's next step).

#include <memory>
#include <string>
#include <vector>

#include "net/chat_output.hpp"
#include "net/chat_request.hpp"
#include "net/completion_format.hpp"
#include "net/generation.hpp"
#include "net/http_session.hpp"

namespace pagedserve::net {

class CompletionResponder final : public GenerationListener,
                                  public std::enable_shared_from_this<CompletionResponder> {
 public:
  // Takes over the exchange: the session hears back through send_* calls.
  static void start(std::shared_ptr<HttpSession> session, bool chat, std::string body);

  CompletionResponder(std::shared_ptr<HttpSession> session, bool chat);

  void on_token(int choice, const actors::TokenEvent& e) override;
  void on_choice_finished(int choice, const actors::SampleFinished& e) override;
  void on_generation_done(const Usage& usage) override;

 private:
  void parse(const std::string& body, const ReadyEngine& ready);
  void run(std::vector<PreparedPrompt> prompts);
  LogprobEntry logprob_entry(int choice, const actors::TokenEvent& e) const;
  std::string chunk_for(int choice, std::string_view text, const LogprobEntry* lp, std::string_view finish) const;
  // Streams a chat delta: one chunk, or one per tool-call piece; false when
  // the client reads too slowly.
  bool stream_chat_delta(int choice, const ChatDelta& delta, const LogprobEntry* lp);
  void cut_off_slow_reader();

  std::shared_ptr<HttpSession> session_;
  bool chat_;
  ReadyEngine* ready_ = nullptr;
  std::vector<PromptInput> prompts_;
  GenerationParams params_;
  bool echo_ = false;
  ResponseMeta meta_;
  std::vector<Choice> choices_;
  std::vector<std::int32_t> prev_token_;  // per choice: the token before the next one (for its text)
  std::vector<bool> role_sent_;           // chat streams: the first delta carries the role
  std::optional<ChatOutputOptions> output_options_;  // chat: how to split the text (null: content only)
  std::vector<ChatOutput> outputs_;       // per choice, with output_options_
  std::shared_ptr<Generation> generation_;
  std::string error_;                     // a sample failed in the engine
  bool slow_reader_ = false;
};

}  // namespace pagedserve::net
