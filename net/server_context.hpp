#pragma once
// What every connection of one server shares: its options, the engine once
// it has loaded, the blocking-work pool, the statistics /metrics reports,
// and the admin access policy.
//
// Invariant: ready() is null until the engine has loaded, then points at
// the same ReadyEngine for the server's whole life (published once).

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/engine.hpp"
#include "net/api_error.hpp"
#include "net/chat_template.hpp"
#include "net/completion_request.hpp"
#include "net/prometheus.hpp"
#include "net/response_store.hpp"
#include "net/web_guard.hpp"
#include "parsers/tool_call_parser.hpp"

namespace pagedserve::net {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;                     // 0: any free port (see Server::port())
  std::string model_path;              // as given on the command line
  std::string served_model_name;       // "" -> derived from model_path
  std::optional<std::string> chat_template;  // --chat-template's text, over the model's own
  std::string tool_call_parser = "auto";     // auto (the template's format), none, hermes, llama3_json, mistral
  std::string reasoning_parser = "none";     // none, qwen3, deepseek_r1 (both <think>...</think>)
  std::string admin_token;             // required for /admin when set
  std::string api_key;                 // required for /v1/* when set
  std::vector<std::string> allowed_origins;  // CORS: origins (or "*") browsers may call from; empty: off
  std::vector<std::string> allowed_hosts;    // Host names besides localhost a loopback server answers ("*": any)
  std::size_t max_body_bytes = std::size_t{1} << 20;
  std::size_t max_header_bytes = 16 * 1024;  // request line + headers
  std::size_t max_target_bytes = 8 * 1024;   // the URL
  std::chrono::milliseconds request_timeout{30000};  // to receive a whole request (slowloris bound)
  std::chrono::milliseconds idle_timeout{60000};     // keep-alive wait; a WebSocket's unanswered ping
  std::chrono::milliseconds write_timeout{30000};    // a write that cannot complete
  std::size_t max_connection_buffer_bytes = std::size_t{1} << 20;  // output queued for one connection
  int send_buffer_bytes = 0;           // SO_SNDBUF of accepted sockets (0: the system's)
  int max_connections = 4096;
  int max_ws_requests = 256;           // requests in flight on one WebSocket
  std::int64_t max_response_tokens = std::int64_t{1} << 20;  // see response_tokens() in generation.hpp
  std::size_t max_stored_responses = 1024;               // kept for previous_response_id
  std::size_t max_stored_response_bytes = std::size_t{64} << 20;
  int num_threads = 4;                 // I/O threads
};

// The engine and the facts derived from it once it has loaded.
struct ReadyEngine {
  std::unique_ptr<actors::Engine> engine;
  InputLimits limits;
  int max_model_len = 0;
  std::size_t max_piece_bytes = 1;  // the longest token's text, bounding bytes per token
  std::shared_ptr<const ChatTemplate> chat_template;  // null: the fallback chat format
  std::optional<parsers::ToolCallFormat> tool_call_format;  // tool_choice auto parses this; none: no parsing
  bool reasoning_parser = false;  // <think>...</think> becomes reasoning_content
};

// The tool-call format a server parses: --tool-call-parser by name, or for
// "auto" the one the chat template's text shows (`template_text`: the
// --chat-template text, else the model's templates). nullopt: none.
std::optional<parsers::ToolCallFormat> resolve_tool_call_format(const std::string& setting,
                                                                const std::string& template_text);

// Counters the server keeps itself (the engine reports the rest).
struct ServerStats {
  Histogram time_to_first_token{{0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5,
                                 5.0, 7.5, 10.0, 30.0}};
  Histogram inter_token_latency{{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15,
                                 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5}};
  // vLLM's buckets, from submission to the request's last event.
  Histogram e2e_request_latency{{0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0,
                                 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0}};
  // From arrival to first admission to the running batch (vLLM's buckets).
  Histogram request_queue_time{{0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0,
                                120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0}};
  // Engine requests finished, by vLLM's finished_reason; their prompt tokens
  // (prefix-cached ones included).
  std::atomic<std::int64_t> finished_stop{0}, finished_length{0}, finished_abort{0};
  std::atomic<std::int64_t> prompt_tokens{0};
  std::atomic<std::int64_t> http_responses_2xx{0}, http_responses_4xx{0}, http_responses_5xx{0};
  std::atomic<std::int64_t> cancelled_by_client{0}, cancelled_slow_reader{0};
  std::atomic<int> open_connections{0}, open_websockets{0};

  void count_response(int status);
  // "stop" and "length" as they are; "cancelled" and "error" are vLLM's "abort".
  void count_finished(const std::string& finish_reason);
};

// A connection the server closes politely when it stops (after the drain):
// a WebSocket with a close frame, an idle keep-alive connection at once.
class Closable {
 public:
  virtual ~Closable() = default;
  // Thread-safe; the connection closes on its own strand once idle.
  virtual void go_away() = 0;
};

class ServerContext {
 public:
  // `blocking_pool` runs what may block (tokenizing, engine queries), never
  // an I/O thread; it must outlive every use of this context.
  ServerContext(ServerOptions options, boost::asio::thread_pool& blocking_pool);

  const ServerOptions& options() const { return options_; }
  const std::string& served_model_name() const { return served_name_; }
  ServerStats& stats() { return stats_; }
  boost::asio::thread_pool& blocking_pool() { return blocking_pool_; }
  ResponseStore& responses() { return responses_; }
  // The engine goes first when the server stops (after the I/O threads).
  void release_engine();

  // Null while loading.
  ReadyEngine* ready() const { return ready_.load(std::memory_order_acquire); }
  void publish(std::unique_ptr<actors::Engine> engine);
  void set_load_error(std::string message);
  std::optional<std::string> load_error() const;

  // The engine, or the 503 a request gets while it loads (or failed to).
  ReadyEngine& require_ready() const;

  // nullopt when a request with this Authorization header may read admin
  // views; else the refusal (401 without the token, 403 when disabled).
  std::optional<ApiError> check_admin(std::string_view authorization) const;
  bool admin_enabled() const { return admin_enabled_; }
  // Who may call from a browser (see web_guard.hpp).
  const WebGuardPolicy& web_guard() const { return web_guard_; }
  // nullopt when a request with this Authorization header may use the API
  // (/v1/*); else the 401.
  std::optional<ApiError> check_api_key(std::string_view authorization) const;
  // The Access-Control-Allow-Origin a browser request from `origin` gets:
  // "" when CORS is off or the origin is not allowed.
  std::string cors_origin(std::string_view origin) const;

  // The model names a request's "model" may carry (empty: any).
  bool accepts_model(const std::string& requested) const;
  // nullopt when accepts_model; else the 404 model_not_found.
  std::optional<ApiError> check_model(const std::string& requested) const;

  // Connections to close when the server stops; dead ones are pruned.
  void track(std::weak_ptr<Closable> connection);
  void close_connections();

 private:
  ServerOptions options_;
  std::string served_name_;
  bool admin_enabled_ = false;
  WebGuardPolicy web_guard_;
  ServerStats stats_;
  ResponseStore responses_;
  boost::asio::thread_pool& blocking_pool_;
  std::unique_ptr<ReadyEngine> owned_ready_;
  std::atomic<ReadyEngine*> ready_{nullptr};
  mutable std::atomic<bool> has_error_{false};
  std::string load_error_;
  std::mutex connections_mu_;
  std::vector<std::weak_ptr<Closable>> connections_;
  std::size_t prune_at_ = 64;
};

// "stories260K" for "models/stories260K/", "model" for "x/model.bin".
std::string model_name_from_path(const std::string& path);

// "a,b , c" -> {"a", "b", "c"}: the allowed_origins setting.
std::vector<std::string> split_origins(const std::string& text);

// Whether `authorization` is "Bearer <token>" (the scheme in any case, as
// RFC 9110 says), the token compared in time independent of where the
// first difference lies.
bool bearer_matches(std::string_view authorization, const std::string& token);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

}  // namespace pagedserve::net
