#pragma once
// One request in flight on a WebSocket: from its `generate` message to its
// `done` (or `error`) frame. Tokenizes on the blocking pool, starts the
// Generation, and writes token frames through the session's bounded queue.
//
// Invariant: exactly one terminal frame (done or error) is sent per request,
// after which the session forgets the id.

#include <memory>
#include <string>
#include <vector>

#include "net/generation.hpp"
#include "net/ws_session.hpp"

namespace pagedserve::net {

class WsRequest final : public GenerationListener, public std::enable_shared_from_this<WsRequest> {
 public:
  WsRequest(std::shared_ptr<WsSession> session, std::string id, CompletionRequest request);

  // Prepares the prompts on the blocking pool, then submits.
  void start(const std::string& engine_id);
  // A cancel message or the socket closing.
  void cancel();
  // The client fell behind: cancel and end with an error frame instead of done.
  void cut_off();

  void on_token(int choice, const actors::TokenEvent& e) override;
  void on_choice_finished(int choice, const actors::SampleFinished& e) override;
  void on_generation_done(const Usage& usage) override;

 private:
  void run(std::vector<PreparedPrompt> prompts, const std::string& engine_id);
  void fail(const ApiError& error);
  void send_done(const Usage& usage);

  std::shared_ptr<WsSession> session_;
  std::string id_;
  CompletionRequest request_;
  ReadyEngine* ready_ = nullptr;
  std::shared_ptr<Generation> generation_;
  std::vector<std::string> finish_reasons_;
  std::string error_;
  bool cancelled_ = false;
  bool cut_off_ = false;
  bool ended_ = false;
};

}  // namespace pagedserve::net
