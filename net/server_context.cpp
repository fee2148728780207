#include "net/server_context.hpp"

#include <cctype>

#include <boost/asio/ip/address.hpp>
#include <algorithm>
#include <filesystem>

namespace pagedserve::net {

void ServerStats::count_response(int status) {
  if (status < 400) ++http_responses_2xx;
  else if (status < 500) ++http_responses_4xx;
  else ++http_responses_5xx;
}

void ServerStats::count_finished(const std::string& finish_reason) {
  if (finish_reason == "stop") ++finished_stop;
  else if (finish_reason == "length") ++finished_length;
  else ++finished_abort;
}

std::string model_name_from_path(const std::string& path) {
  std::filesystem::path p(path);
  while (!p.empty() && p.filename().empty()) p = p.parent_path();  // "dir/" -> "dir"
  std::string name = p.filename().string();
  if (name.size() > 4 && name.substr(name.size() - 4) == ".bin") name.resize(name.size() - 4);
  return name.empty() ? path : name;
}

std::vector<std::string> split_origins(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(std::move(item));
    start = end + 1;
  }
  return out;
}

bool bearer_matches(std::string_view authorization, const std::string& token) {
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() < scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return false;
  const auto given = authorization.substr(scheme.size());
  unsigned char diff = given.size() != token.size();
  for (std::size_t i = 0; i < token.size(); ++i)
    diff |= static_cast<unsigned char>(i < given.size() ? given[i] ^ token[i] : 1);
  return diff == 0;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

ServerContext::ServerContext(ServerOptions options, boost::asio::thread_pool& blocking_pool)
    : options_(std::move(options)),
      responses_(options_.max_stored_responses, options_.max_stored_response_bytes),
      blocking_pool_(blocking_pool) {
  served_name_ = options_.served_model_name.empty() ? model_name_from_path(options_.model_path) : options_.served_model_name;
  // Admin views expose every request's bookkeeping: open on loopback, and
  // elsewhere only behind a token.
  admin_enabled_ = !options_.admin_token.empty() || is_loopback_host(options_.host);
  // On loopback only this machine can connect, so the Host header is what
  // tells a local client from a web page on a rebound DNS name.
  web_guard_ = {is_loopback_host(options_.host), options_.port, options_.allowed_hosts};
}

void ServerContext::release_engine() {
  if (owned_ready_) owned_ready_->engine.reset();
}

void ServerContext::publish(std::unique_ptr<actors::Engine> engine) {
  auto r = std::make_unique<ReadyEngine>();
  // A template this engine cannot render refuses the load here, by line and construct.
  r->chat_template = ChatTemplate::compile(engine->model_config().chat_templates, options_.chat_template);
  std::string template_text;
  if (options_.chat_template) template_text = *options_.chat_template;
  else
    for (const auto& [name, source] : engine->model_config().chat_templates.named) template_text += source;
  r->tool_call_format = resolve_tool_call_format(options_.tool_call_parser, template_text);
  r->reasoning_parser = !options_.reasoning_parser.empty() && options_.reasoning_parser != "none";
  const auto& tokenizer = engine->tokenizer();
  r->limits.vocab_size = engine->model_config().vocab_size;
  r->limits.max_n = engine->config().max_n;
  r->limits.max_response_tokens = options_.max_response_tokens;
  r->limits.sampling_defaults = engine->model_config().generation.sampling();
  r->max_model_len = engine->max_model_len();
  std::size_t longest = 1;
  for (int id = 0; id < tokenizer.vocab_size(); ++id)
    longest = std::max(longest, tokenizer.decode_piece(0, id).size());
  r->max_piece_bytes = longest;
  r->engine = std::move(engine);
  owned_ready_ = std::move(r);
  ready_.store(owned_ready_.get(), std::memory_order_release);
}

std::optional<parsers::ToolCallFormat> resolve_tool_call_format(const std::string& setting,
                                                                const std::string& template_text) {
  if (setting == "none" || setting.empty()) return std::nullopt;
  if (setting == "auto") return parsers::detect_tool_call_format(template_text);
  return parsers::parse_tool_call_format(setting);
}

void ServerContext::set_load_error(std::string message) {
  load_error_ = std::move(message);
  has_error_.store(true, std::memory_order_release);
}

std::optional<std::string> ServerContext::load_error() const {
  if (!has_error_.load(std::memory_order_acquire)) return std::nullopt;
  return load_error_;
}

ReadyEngine& ServerContext::require_ready() const {
  if (auto* r = ready()) return *r;
  if (auto e = load_error()) throw ApiError(503, "server_error", "the model failed to load: " + *e, "", "model_load_failed");
  throw ApiError(503, "server_error", "the model is still loading; retry shortly", "", "model_loading");
}

std::optional<ApiError> ServerContext::check_admin(std::string_view authorization) const {
  if (!admin_enabled_)
    return ApiError(403, "permission_error",
                    "admin views are disabled: the server listens on a non-loopback address and no admin_token is set",
                    "", "admin_disabled");
  if (options_.admin_token.empty()) return std::nullopt;
  if (!bearer_matches(authorization, options_.admin_token)) return ApiError(401, "authentication_error", "admin views need Authorization: Bearer <admin_token>", "", "invalid_token");
  return std::nullopt;
}

std::optional<ApiError> ServerContext::check_api_key(std::string_view authorization) const {
  if (options_.api_key.empty() || bearer_matches(authorization, options_.api_key)) return std::nullopt;
  return ApiError(401, "authentication_error",
                  authorization.empty() ? "this server needs an API key: send Authorization: Bearer <key>"
                                        : "incorrect API key",
                  "", "invalid_api_key");
}

std::string ServerContext::cors_origin(std::string_view origin) const {
  if (origin.empty()) return "";
  for (const auto& allowed : options_.allowed_origins) {
    if (allowed == "*") return "*";
    if (allowed == origin) return allowed;
  }
  return "";
}

bool ServerContext::accepts_model(const std::string& requested) const {
  return requested.empty() || requested == served_name_ || requested == options_.model_path;
}

std::optional<ApiError> ServerContext::check_model(const std::string& requested) const {
  if (accepts_model(requested)) return std::nullopt;
  return ApiError(404, "invalid_request_error",
                  "the model '" + requested + "' does not exist; this server serves '" + served_name_ + "'", "model",
                  "model_not_found");
}

void ServerContext::track(std::weak_ptr<Closable> connection) {
  std::lock_guard lock(connections_mu_);
  // Prune when the list doubles: amortized O(1), and at most twice as long
  // as the open connections.
  if (connections_.size() >= prune_at_) {
    std::erase_if(connections_, [](const auto& c) { return c.expired(); });
    prune_at_ = std::max<std::size_t>(64, 2 * connections_.size());
  }
  connections_.push_back(std::move(connection));
}

void ServerContext::close_connections() {
  std::vector<std::weak_ptr<Closable>> all;
  {
    std::lock_guard lock(connections_mu_);
    all.swap(connections_);
  }
  for (auto& weak : all)
    if (auto c = weak.lock()) c->go_away();
}

}  // namespace pagedserve::net
