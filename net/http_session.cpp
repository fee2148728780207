#include "net/http_session.hpp"

#include <variant>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket.hpp>

#include "net/admin_json.hpp"
#include "net/admin_page.hpp"
#include "net/completion_responder.hpp"
#include "net/json_writer.hpp"
#include "net/log.hpp"
#include "net/metrics_page.hpp"
#include "net/responses_http.hpp"
#include "net/tokenize.hpp"
#include "net/web_guard.hpp"
#include "net/ws_session.hpp"

namespace pagedserve::net {

namespace beast = boost::beast;
namespace asio = boost::asio;

namespace {

constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kMaxLingerBytes = std::size_t{1} << 20;

// Runs `work` on the blocking pool and `done(result)` back on the strand.
template <class Work, class Done>
void run_blocking(ServerContext& ctx, asio::any_io_executor strand, Work work, Done done) {
  asio::post(ctx.blocking_pool(), [strand, work = std::move(work), done = std::move(done)]() mutable {
    auto result = work();
    asio::post(strand, [done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
  });
}

std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

// A client's X-Request-Id, if it is one we can echo and log as is: up to
// 128 visible ASCII characters.
std::string client_request_id(std::string_view id) {
  if (id.size() > 128) return "";
  for (char c : id)
    if (c <= ' ' || c > '~') return "";
  return std::string(id);
}

}  // namespace

StringResponse json_response(http::status status, std::string body, unsigned version, bool keep_alive) {
  StringResponse res{status, version};
  res.set(http::field::server, "pagedserve");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

HttpSession::HttpSession(asio::ip::tcp::socket socket, std::shared_ptr<ServerContext> context)
    : stream_(std::move(socket)),
      strand_(stream_.get_executor()),
      context_(std::move(context)),
      stall_timer_(strand_),
      queue_(context_->options().max_connection_buffer_bytes) {
  ++context_->stats().open_connections;
}

HttpSession::~HttpSession() { --context_->stats().open_connections; }

void HttpSession::start() {
  context_->track(weak_from_this());
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_request(); });
}

void HttpSession::go_away() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->upgraded_) return;  // the WebSocket session answers for itself
    self->close_after_ = true;
    if (self->awaiting_request_ && self->buffer_.size() == 0) self->close_now();
  });
}

void HttpSession::read_request() {
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(context_->options().max_header_bytes));
  parser_->body_limit(context_->options().max_body_bytes);
  // One deadline for the whole request, idle wait included: a client that
  // trickles its headers or body (slowloris) is cut off when it passes. A
  // kept-alive connection may wait longer for its next request.
  const auto& o = context_->options();
  stream_.expires_after(answered_one_ ? o.idle_timeout : o.request_timeout);
  awaiting_request_ = true;
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
}

void HttpSession::on_read(beast::error_code ec) {
  awaiting_request_ = false;
  started_ = std::chrono::steady_clock::now();
  method_.clear();
  path_.clear();
  cors_origin_.clear();
  request_id_.clear();
  if (ec == http::error::end_of_stream || ec == asio::error::connection_reset || ec == asio::error::eof) return close_now();
  if (ec) return refuse_unreadable(ec);
  auto& request = parser_->get();
  version_ = request.version();
  keep_alive_ = request.keep_alive();
  close_after_ = !keep_alive_;
  if (request.target().size() > context_->options().max_target_bytes) {
    close_after_ = true;
    return send_error(ApiError(414, "invalid_request_error", "the request URL is longer than " +
                                                                std::to_string(context_->options().max_target_bytes) + " bytes"));
  }
  dispatch(request);
}

// The request could not be read: answer what can be answered, then close.
void HttpSession::refuse_unreadable(beast::error_code ec) {
  close_after_ = true;
  keep_alive_ = false;
  // A request not received in time (an idle keep-alive connection, or a
  // client trickling bytes): the stream has closed the socket already.
  if (ec == beast::error::timeout) return close_now();
  if (ec == http::error::body_limit)
    return send_error(ApiError(413, "invalid_request_error", "the request body is larger than the limit of " +
                                                                std::to_string(context_->options().max_body_bytes) + " bytes"));
  if (ec == http::error::header_limit)
    return send_error(ApiError(431, "invalid_request_error", "the request headers are larger than the limit of " +
                                                                std::to_string(context_->options().max_header_bytes) + " bytes"));
  if (ec == http::error::bad_transfer_encoding)
    return send_error(ApiError(501, "invalid_request_error", "the only Transfer-Encoding supported is chunked", "",
                               "unsupported_transfer_encoding"));
  if (ec.category() == http::make_error_code(http::error::bad_target).category())
    return send_error(ApiError(400, "invalid_request_error", "malformed HTTP request: " + ec.message()));
  close_now();  // a socket error: nobody to answer
}

void HttpSession::dispatch(http::request<http::string_body>& request) {
  const auto match = match_route(sv(request.method_string()), sv(request.target()));
  method_ = std::string(sv(request.method_string()));
  path_ = std::string(target_path(sv(request.target())));
  cors_origin_ = context_->cors_origin(sv(request[http::field::origin]));
  request_id_ = client_request_id(sv(request["X-Request-Id"]));
  try {
    const WebRequestFacts facts{sv(request.method_string()), sv(request.target()), sv(request[http::field::host]),
                                sv(request[http::field::content_type]), sv(request[http::field::transfer_encoding]),
                                sv(request[http::field::origin]), beast::websocket::is_upgrade(request), !cors_origin_.empty()};
    if (auto refused = refuse_web_request(facts, context_->web_guard())) {
      close_after_ = true;  // the body may not have been read as the client meant
      throw *refused;
    }
    if (request.method() == http::verb::options && !cors_origin_.empty()) return answer_preflight(request);
    if (needs_api_key(match.route))
      if (auto refused = context_->check_api_key(sv(request[http::field::authorization]))) throw *refused;
    if (auto refused = refuse_cross_site_post(facts.method, facts.content_type)) throw *refused;
    switch (match.route) {
      case Route::not_found:
        throw ApiError(404, "not_found_error", "no route for " + std::string(target_path(sv(request.target()))));
      case Route::method_not_allowed: {
        auto res = json_response(http::status::method_not_allowed,
                                 error_body(ApiError(405, "invalid_request_error",
                                                     std::string(request.method_string()) + " is not allowed here; use " + match.allow)),
                                 version_, keep_alive_);
        res.set(http::field::allow, match.allow);
        return send_response(std::move(res));
      }
      case Route::health: return serve_health();
      case Route::version: return serve_version();
      case Route::tokenize:
      case Route::detokenize: return serve_tokenize(match.route == Route::detokenize, std::move(request.body()));
      case Route::apply_template: return serve_apply_template(std::move(request.body()));
      case Route::models: return serve_models();
      case Route::metrics: return serve_metrics();
      case Route::admin_page: return serve_admin_page(request);
      case Route::admin_view: return serve_admin(match, request);
      case Route::stream:
      case Route::responses_socket:
        if (!beast::websocket::is_upgrade(request))
          throw ApiError(426, "invalid_request_error", path_ + " takes a WebSocket Upgrade here" +
                                                           (match.route == Route::responses_socket ? " (or POST)" : ""));
        return upgrade_to_websocket(match.route == Route::stream ? WsProtocol::stream : WsProtocol::responses);
      case Route::responses:
        exchange_ = true;
        return serve_responses(shared_from_this(), std::move(request.body()));
      case Route::completions:
      case Route::chat_completions:
        exchange_ = true;
        return CompletionResponder::start(shared_from_this(), match.route == Route::chat_completions,
                                          std::move(request.body()));
    }
  } catch (const ApiError& e) {
    send_error(e);
  }
}

void HttpSession::upgrade_to_websocket(WsProtocol protocol) {
  upgraded_ = true;
  auto ws = std::make_shared<WsSession>(std::move(stream_), context_, protocol);
  ws->start(parser_->release(), std::move(buffer_));
}

// A browser asks before a cross-origin POST or a request with an
// Authorization header; only allowed origins get here.
void HttpSession::answer_preflight(const http::request<http::string_body>& request) {
  StringResponse res{http::status::no_content, version_};
  res.set(http::field::server, "pagedserve");
  res.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
  const auto asked = sv(request[http::field::access_control_request_headers]);
  res.set(http::field::access_control_allow_headers, asked.empty() ? std::string("Authorization, Content-Type") : std::string(asked));
  res.set(http::field::access_control_max_age, "600");
  res.keep_alive(keep_alive_);
  send_response(std::move(res));
}

void HttpSession::set_common_headers(http::fields& fields) const {
  if (!request_id_.empty()) fields.set("X-Request-Id", request_id_);
  if (cors_origin_.empty()) return;
  fields.set(http::field::access_control_allow_origin, cors_origin_);
  fields.set(http::field::access_control_expose_headers, "X-Request-Id");
  if (cors_origin_ != "*") fields.set(http::field::vary, "Origin");
}

void HttpSession::serve_version() {
  JsonWriter w;
  w.begin_object().field("version", PAGEDSERVE_VERSION).end_object();
  send_response(json_response(http::status::ok, w.take(), version_, keep_alive_));
}

void HttpSession::serve_health() {
  auto* ready = context_->ready();
  const auto dead = ready ? ready->engine->dead_reason() : std::nullopt;
  JsonWriter w;
  w.begin_object();
  if (dead) {
    w.field("status", "engine_dead").field("error", *dead);
  } else if (ready) {
    w.field("status", "ok");
  } else if (auto err = context_->load_error()) {
    w.field("status", "failed").field("error", *err);
  } else {
    w.field("status", "loading");
  }
  w.end_object();
  const bool ok = ready && !dead;
  send_response(json_response(ok ? http::status::ok : http::status::service_unavailable, w.take(), version_, keep_alive_));
}

void HttpSession::serve_models() {
  auto& ready = context_->require_ready();
  JsonWriter w;
  w.begin_object().field("object", "list").key("data").begin_array().begin_object();
  w.field("id", context_->served_model_name()).field("object", "model").field("created", std::int64_t{0});
  w.field("owned_by", "pagedserve").field("max_model_len", ready.max_model_len).end_object().end_array().end_object();
  send_response(json_response(http::status::ok, w.take(), version_, keep_alive_));
}

// Parsed here, tokenized on the blocking pool (BPE is superlinear).
void HttpSession::serve_tokenize(bool detokenize, std::string body) {
  auto& ready = context_->require_ready();
  std::function<std::string()> work;
  if (detokenize) {
    auto request = parse_detokenize_request(body, ready.limits);
    if (auto refused = context_->check_model(request.model)) throw *refused;
    work = [&ready, request = std::move(request)] { return detokenize_body(ready.engine->tokenizer(), request); };
  } else {
    auto request = parse_tokenize_request(body, ready.limits, ready.chat_template.get());
    if (auto refused = context_->check_model(request.model)) throw *refused;
    // As for generation: a text too long to possibly fit is not tokenized.
    if (request.text.size() / ready.max_piece_bytes > static_cast<std::size_t>(ready.max_model_len))
      throw invalid_request("prompt", "the text is longer than this model's maximum context length of " +
                                          std::to_string(ready.max_model_len) + " tokens", "context_length_exceeded");
    work = [&ready, request = std::move(request)] {
      return tokenize_body(ready.engine->tokenizer(), request, ready.max_model_len);
    };
  }
  // A text the tokenizer cannot encode (a character outside a vocabulary
  // without byte fallback) is the client's 400, never an escaped exception.
  auto guarded = [work = std::move(work)]() -> std::variant<std::string, ApiError> {
    try {
      return work();
    } catch (const std::exception& e) {
      return invalid_request("prompt", std::string("the text cannot be tokenized: ") + e.what());
    }
  };
  run_blocking(*context_, strand(), std::move(guarded), [self = shared_from_this()](std::variant<std::string, ApiError> r) {
    if (auto* e = std::get_if<ApiError>(&r)) return self->send_error(*e);
    self->send_response(json_response(http::status::ok, std::move(std::get<std::string>(r)), self->version_, self->keep_alive_));
  });
}

void HttpSession::serve_apply_template(std::string body) {
  auto& ready = context_->require_ready();
  std::string json = apply_template_body(body, ready.limits, ready.chat_template.get());
  send_response(json_response(http::status::ok, std::move(json), version_, keep_alive_));
}

void HttpSession::serve_metrics() {
  auto* ready = context_->ready();
  auto ctx = context_;
  run_blocking(
      *context_, strand(),
      [ready, ctx]() -> std::string {
        MetricsAbout about{ctx->served_model_name(), ready ? &ready->engine->config() : nullptr};
        if (!ready) return render_metrics(nullptr, ctx->stats(), about);
        try {
          const auto m = ready->engine->metrics();
          return render_metrics(&m, ctx->stats(), about);
        } catch (const std::exception& e) {
          log(LogLevel::warning, std::string("metrics: ") + e.what());
          return render_metrics(nullptr, ctx->stats(), about);
        }
      },
      [self = shared_from_this()](std::string text) {
        StringResponse res{http::status::ok, self->version_};
        res.set(http::field::server, "pagedserve");
        res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        res.keep_alive(self->keep_alive_);
        res.body() = std::move(text);
        res.prepare_payload();
        self->send_response(std::move(res));
      });
}

void HttpSession::serve_admin(const RouteMatch& match, const http::request<http::string_body>& request) {
  if (auto refused = context_->check_admin(sv(request[http::field::authorization]))) throw *refused;
  auto& ready = context_->require_ready();
  // The outer nullopt: the engine failed; the inner: no such live sequence.
  using Result = std::optional<std::optional<std::string>>;
  run_blocking(
      *context_, strand(),
      [engine = ready.engine.get(), view = match.admin_view]() -> Result {
        const auto query = admin_query(view);
        if (!query) return std::optional<std::string>();
        try {
          return admin_json(engine->admin_snapshot(*query));
        } catch (const std::exception& e) {
          log(LogLevel::warning, "admin view " + view + ": " + e.what());
          return std::nullopt;
        }
      },
      [self = shared_from_this(), view = match.admin_view](Result json) {
        if (!json) return self->send_error(ApiError(500, "server_error", "the engine did not answer the admin query"));
        if (!*json) return self->send_error(ApiError(404, "not_found_error", "no live sequence " + view.substr(4)));
        self->send_response(json_response(http::status::ok, std::move(**json), self->version_, self->keep_alive_));
      });
}

void HttpSession::serve_admin_page(const http::request<http::string_body>&) {
  // The page holds no data; its requests for the views carry the token.
  if (!context_->admin_enabled()) throw *context_->check_admin("");
  StringResponse res{http::status::ok, version_};
  res.set(http::field::server, "pagedserve");
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive_);
  res.body() = std::string(admin_page_html());
  res.prepare_payload();
  send_response(std::move(res));
}

void HttpSession::send_error(const ApiError& error) {
  auto res = json_response(static_cast<http::status>(error.status), error_body(error), version_, keep_alive_ && !close_after_);
  if (error.status == 503) res.set(http::field::retry_after, "1");
  if (error.status == 401) res.set(http::field::www_authenticate, "Bearer");
  send_response(std::move(res));
}

void HttpSession::send_response(StringResponse response) {
  if (client_gone_) return after_exchange();
  if (close_after_) response.keep_alive(false);
  close_after_ = close_after_ || !response.keep_alive();
  set_common_headers(response);
  status_ = static_cast<int>(response.result_int());
  context_->stats().count_response(status_);
  if (method_ == "HEAD") {  // the headers of the GET answer, Content-Length included
    const auto length = response.body().size();
    response.body().clear();
    response.content_length(length);
  }
  write_response(std::make_shared<StringResponse>(std::move(response)));
}

void HttpSession::write_response(std::shared_ptr<StringResponse> response) {
  stream_.expires_after(context_->options().write_timeout);
  http::async_write(stream_, *response, [self = shared_from_this(), response](beast::error_code ec, std::size_t) {
    if (ec) {
      self->client_gone_ = true;
      return self->close_now();
    }
    self->after_exchange();
  });
}

// The response is out: the next request, or close.
void HttpSession::after_exchange() {
  log_exchange();
  answered_one_ = true;
  exchange_ = false;
  on_gone_ = nullptr;
  if (client_gone_) return close_now();
  if (close_after_) return linger_close();
  if (watching_) {
    resume_after_watch_ = true;  // the watch read's handler starts the next read
    stream_.socket().cancel();
    return;
  }
  read_request();
}

// Half-closes, then reads (and drops) what the client still sends for a
// moment, so it receives our answer before the connection goes (closing
// with unread data would reset the connection and lose the response).
void HttpSession::linger_close() {
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec || watching_) return close_now();
  stream_.expires_after(kLingerTime);  // one deadline for the whole drain
  linger_read(0);
}

void HttpSession::linger_read(std::size_t num_drained) {
  stream_.async_read_some(buffer_.prepare(16 * 1024),
                          [self = shared_from_this(), num_drained](beast::error_code ec, std::size_t n) {
                            if (ec || num_drained + n > kMaxLingerBytes) return self->close_now();
                            self->linger_read(num_drained + n);
                          });
}

// One access-log record per answered request. Health checks and metric
// scrapes come every few seconds: they are debug unless they fail.
void HttpSession::log_exchange() {
  if (status_ == 0) return;
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.1f", ms);
  const bool routine = status_ < 400 && (path_ == "/health" || path_ == "/metrics");
  const LogLevel level = status_ >= 500 ? LogLevel::warning : routine ? LogLevel::debug : LogLevel::info;
  log(level, "http",
      {{"method", method_.empty() ? "-" : method_}, {"path", path_.empty() ? "-" : path_},
       {"status", std::to_string(status_)}, {"duration_ms", duration}, {"client_gone", client_gone_ ? "true" : "false"},
       {"request_id", request_id_.empty() ? "-" : request_id_}});
  status_ = 0;
}

void HttpSession::close_now() {
  stall_timer_.cancel();
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  stream_.close();
}

}  // namespace pagedserve::net
