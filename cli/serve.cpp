// `pagedserve serve`: the OpenAI-compatible HTTP server. The port is bound
// first, so /health answers "loading" while the model loads; SIGTERM and
// SIGINT drain in-flight requests (up to drain_timeout) and stop; SIGHUP
// reopens the log and reloads the log level from the config file.

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <thread>

#include "actors/engine.hpp"
#include "cli/args.hpp"
#include "cli/command_settings.hpp"
#include "cli/commands.hpp"
#include "cli/log.hpp"
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

net::ServerOptions server_options(const Settings& s) {
  net::ServerOptions o;
  o.host = s.get_string("host");
  o.port = static_cast<int>(s.get_int("port"));
  o.model_path = s.get_string("model");
  o.served_model_name = s.get_string("served_model_name");
  o.api_key = resolve_api_key(s);
  o.allowed_origins = net::split_origins(s.get_string("allowed_origins"));
  o.admin_token = s.get_string("admin_token");
  o.max_body_bytes = static_cast<std::size_t>(s.get_int("max_body_bytes"));
  return o;
}

Logger open_logger(const Settings& s) {
  try {
    return Logger(parse_log_level(s.get_string("log_level")), s.get_string("log_file"));
  } catch (const std::exception& e) {
    throw CliError(std::string("log_file: ") + e.what());
  }
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

}  // namespace

int run_serve(int argc, char** argv) {
  Args args(argc, argv, boolean_setting_flags());
  if (args.answered_help(help_text())) return 0;
  args.reject_unknown(setting_flags(SettingScope::server), 1);
  if (const auto executors = args.get_all("executor"); executors.size() > 1)
    throw CliError("--executor is given " + std::to_string(executors.size()) +
                   " times: one executor runs the whole model; several (tensor or pipeline parallelism) are not "
                   "supported yet");
  const Settings settings = read_settings(args, SettingScope::server);
  const auto options = server_options(settings);
  const auto config = engine_config(settings);

  // Before any thread exists: the signal mask is inherited.
  SignalWatcher::block_in_this_thread();
  Logger logger = open_logger(settings);
  net::set_log_sink([&logger](LogLevel l, const std::string& m, const net::LogFields& f) { logger.log(l, m, f); });
  StopLatch latch;
  SignalWatcher signals([&] { latch.stop(); },
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

  net::Server server(options);
  server.start();
  logger.log(LogLevel::info, "listening", {{"host", settings.get_string("host")}, {"port", std::to_string(server.port())},
                                           {"model", settings.get_string("model")}});
  if (options.api_key.empty() && !net::is_loopback_host(options.host))
    logger.log(LogLevel::warning, "no API key: anyone who can reach this address can use /v1/*; set --api-key",
               {{"host", options.host}});

  int exit_code = 0;
  try {
    server.publish(actors::Engine::start(config));
    logger.log(LogLevel::info, "model loaded; serving", {{"model", server.context().served_model_name()}});
    systemd_notify("READY=1");
  } catch (const std::exception& e) {
    server.set_load_error(e.what());
    logger.log(LogLevel::error, "the model failed to load", {{"error", e.what()}});
    exit_code = 1;
    latch.stop();
  }
  latch.wait([&] {
    auto* ready = server.context().ready();
    if (!ready) return true;  // loading
    if (auto dead = ready->engine->dead_reason()) {
      logger.log(LogLevel::error, "the engine stopped working; exiting", {{"error", *dead}});
      exit_code = 1;
      latch.stop();
      return false;
    }
    return ready->engine->answers(std::chrono::seconds(5));
  });
  systemd_notify("STOPPING=1");
  const auto drain = std::chrono::milliseconds(static_cast<std::int64_t>(settings.get_double("drain_timeout") * 1000));
  char drain_s[32];
  std::snprintf(drain_s, sizeof drain_s, "%g", static_cast<double>(drain.count()) / 1000.0);
  logger.log(LogLevel::info, "stopping; draining in-flight requests", {{"drain_timeout_s", drain_s}});
  server.shutdown(drain);
  net::set_log_sink(nullptr);
  logger.log(LogLevel::info, "stopped");
  return exit_code;
}

}  // namespace pagedserve::cli
