// `pagedserve serve`: the OpenAI-compatible HTTP server. The port is bound
// first, so /health answers "loading" while the model loads; SIGTERM and
// SIGINT drain in-flight requests (up to drain_timeout) and stop, and a
// second one exits at once; SIGHUP reopens the log and reloads the log level
// from the config file. Exit statuses are in cli/exit_codes.hpp.

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>

#include "actors/engine.hpp"
#include "cli/args.hpp"
#include "cli/command_settings.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/log.hpp"
#include "cli/open_file_limit.hpp"
#include "cli/settings.hpp"
#include "cli/signals.hpp"
#include "cli/systemd_notify.hpp"
#include "net/log.hpp"
#include "net/server.hpp"

namespace pagedserve::cli {

namespace {

std::string help_text() {
  return "usage: pagedserve serve [MODEL] [--config FILE] [--SETTING VALUE ...]\n\n"
         "Serves the OpenAI-compatible API (/v1/completions, /v1/chat/completions, /v1/responses,\n"
         "/v1/models), WebSocket streaming (/v1/stream, /v1/responses), /tokenize, /detokenize,\n"
         "/health, /version, /metrics and the admin console (/admin/).\n"
         "Every boolean flag also takes --no-FLAG and --FLAG true|false.\n\n" +
         alias_help() + "\nsettings:\n" + settings_help(SettingScope::server);
}

std::chrono::milliseconds milliseconds_of(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

net::ServerOptions server_options(const Settings& s) {
  net::ServerOptions o;
  o.host = s.get_string("host");
  o.port = static_cast<int>(s.get_int("port"));
  o.model_path = s.get_string("model");
  o.served_model_name = s.get_string("served_model_name");
  o.chat_template = read_chat_template(s);
  o.tool_call_parser = s.get_string("tool_call_parser");
  o.reasoning_parser = s.get_string("reasoning_parser");
  o.api_key = resolve_api_key(s);
  o.allowed_origins = net::split_origins(s.get_string("allowed_origins"));
  o.allowed_hosts = net::split_origins(s.get_string("allowed_hosts"));
  o.max_response_tokens = s.get_int("max_response_tokens");
  o.admin_token = s.get_string("admin_token");
  o.max_body_bytes = static_cast<std::size_t>(s.get_int("max_body_bytes"));
  o.max_connections = static_cast<int>(s.get_int("max_connections"));
  o.max_connection_buffer_bytes = static_cast<std::size_t>(s.get_int("max_connection_buffer_bytes"));
  o.request_timeout = milliseconds_of(s.get_double("request_timeout"));
  o.idle_timeout = milliseconds_of(s.get_double("idle_timeout"));
  o.write_timeout = milliseconds_of(s.get_double("write_timeout"));
  return o;
}

Logger open_logger(const Settings& s) {
  try {
    return Logger(parse_log_level(s.get_string("log_level")), s.get_string("log_file"));
  } catch (const std::exception& e) {
    throw CliError(std::string("log_file: ") + e.what());
  }
}

// Raises the soft open-file limit and says what it is: below
// max_connections, accept fails with EMFILE before the limit is reached.
void log_open_file_limit(Logger& logger, int max_connections) {
  const auto fds = raise_open_file_limit();
  const auto text = [](std::int64_t v) { return v < 0 ? std::string("unlimited") : std::to_string(v); };
  const bool short_of = fds.soft >= 0 && fds.soft < max_connections;
  logger.log(short_of ? LogLevel::warning : LogLevel::info,
             short_of ? "open-file limit is below max_connections; connections past it wait in the listen queue"
                      : "open-file limit",
             {{"soft_before", text(fds.soft_before)}, {"soft", text(fds.soft)}, {"hard", text(fds.hard)},
              {"max_connections", std::to_string(max_connections)}});
}

// Waits for SIGTERM/SIGINT, a failed load or a dead engine. Every beat
// (half systemd's watchdog interval, else a second) it asks `healthy`, and
// pings the watchdog only when the engine answered: a hung engine is
// restarted by systemd, a dead one stops the wait.
class StopLatch {
 public:
  void stop() {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  bool stopping() {
    std::lock_guard lock(mu_);
    return stopping_;
  }
  // `healthy` says whether the engine answered; it may stop the latch.
  void wait(const std::function<bool()>& healthy) {
    const auto ping = systemd_watchdog_interval();
    const auto beat = ping ? std::chrono::duration_cast<std::chrono::milliseconds>(*ping) : std::chrono::milliseconds(1000);
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, beat);
      if (stopping_) break;
      lock.unlock();
      const bool answered = healthy();
      lock.lock();
      if (answered && ping) systemd_notify("WATCHDOG=1");
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

// The first SIGTERM/SIGINT starts the drain; a second one means the operator
// will not wait for it: exit now, without running any destructor (streams
// still open see their connection close).
void on_stop_signal(int count, StopLatch& latch, Logger& logger) {
  if (count == 1) return latch.stop();
  logger.log(LogLevel::warning, "second stop signal; exiting without waiting for the drain");
  std::_Exit(kExitForcedStop);
}

}  // namespace

int run_serve(int argc, char** argv) {
  Args args(argc, argv, boolean_setting_flags());
  if (args.answered_help(help_text())) return 0;
  args.reject_unknown(setting_flags(SettingScope::server), 1);
  const Settings settings = read_settings(args, SettingScope::server);
  const auto options = server_options(settings);
  const auto config = engine_config(settings);

  // Before any thread exists: the signal mask is inherited.
  SignalWatcher::block_in_this_thread();
  Logger logger = open_logger(settings);
  net::set_log_sink([&logger](LogLevel l, const std::string& m, const net::LogFields& f) { logger.log(l, m, f); });
  StopLatch latch;
  std::atomic<int> stop_signals{0};
  SignalWatcher signals([&] { on_stop_signal(++stop_signals, latch, logger); },
                        [&] {
                          try {
                            logger.reopen();
                          } catch (const std::exception& e) {
                            logger.log(LogLevel::error, "reopening the log failed; writing to the old file",
                                       {{"error", e.what()}});
                          }
                          if (args.has("config")) {
                            try {
                              Settings reloaded = read_settings(args, SettingScope::server);
                              logger.set_level(parse_log_level(reloaded.get_string("log_level")));
                            } catch (const std::exception& e) {
                              logger.log(LogLevel::warning, "reload failed; keeping the log level", {{"error", e.what()}});
                            }
                          }
                          logger.log(LogLevel::info, "reloaded");
                        });

  log_open_file_limit(logger, options.max_connections);
  net::Server server(options);
  server.start();
  logger.log(LogLevel::info, "listening", {{"host", settings.get_string("host")}, {"port", std::to_string(server.port())},
                                           {"model", settings.get_string("model")}});
  if (options.api_key.empty() && !net::is_loopback_host(options.host))
    logger.log(LogLevel::warning, "no API key: anyone who can reach this address can use /v1/*; set --api-key",
               {{"host", options.host}});

  int exit_code = kExitOk;
  try {
    server.publish(actors::Engine::start(config));
    const auto* ready = server.context().ready();
    const std::string tool_call_parser = ready && ready->tool_call_format
                                             ? std::string(parsers::tool_call_format_name(*ready->tool_call_format))
                                             : "none";
    logger.log(LogLevel::info, "model loaded; serving",
               {{"model", server.context().served_model_name()},
                {"tool_call_parser", tool_call_parser},
                {"reasoning_parser", options.reasoning_parser}});
    systemd_notify("READY=1");
  } catch (const std::exception& e) {
    server.set_load_error(e.what());
    logger.log(LogLevel::error, "the model failed to load", {{"error", e.what()}});
    exit_code = kExitModelError;
    latch.stop();
  }
  latch.wait([&] {
    auto* ready = server.context().ready();
    if (!ready) return true;  // loading
    if (auto dead = ready->engine->dead_reason()) {
      logger.log(LogLevel::error, "the engine stopped working; exiting", {{"error", *dead}});
      exit_code = kExitFailure;
      latch.stop();
      return false;
    }
    return ready->engine->answers(std::chrono::seconds(5));
  });
  systemd_notify("STOPPING=1");
  const auto drain = milliseconds_of(settings.get_double("drain_timeout"));
  char drain_s[32];
  std::snprintf(drain_s, sizeof drain_s, "%g", static_cast<double>(drain.count()) / 1000.0);
  logger.log(LogLevel::info, "stopping; draining in-flight requests", {{"drain_timeout_s", drain_s}});
  server.shutdown(drain);
  net::set_log_sink(nullptr);
  logger.log(LogLevel::info, "stopped");
  return exit_code;
}

}  // namespace pagedserve::cli
