// `pagedserve worker`: an executor in its own process. Loads the model,
// publishes the worker actor on HOST:PORT (that interface only) with CAF's
// network layer, and serves one `serve --executor HOST:PORT` at a time
// until SIGTERM or SIGINT. The link is unauthenticated: a private network
// only.

#include <caf/io/all.hpp>
#include <condition_variable>
#include <mutex>

#include "actors/worker_link.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/log.hpp"
#include "cli/signals.hpp"
#include "kernels/backend.hpp"
#include "model/loader.hpp"

namespace pagedserve::cli {

namespace {

const char* kHelp =
    "usage: pagedserve worker --listen HOST:PORT [--rank R] [--device cpu|cuda:N] [--model PATH]\n\n"
    "Runs the model's executor for one `pagedserve serve --executor HOST:PORT` at a time: the\n"
    "worker loads the model and holds the KV cache on its device; the server keeps the\n"
    "scheduler, the block manager and the tokenizer, and must name the same model.\n\n"
    "A model split over several workers (serve --tensor-parallel-size T --pipeline-parallel-size P\n"
    "with T x P --executor HOST:PORT, in rank order) runs one rank in each: the ranks exchange\n"
    "their activations directly over TCP (Gloo), on the --listen address and ports the kernel\n"
    "picks, so that address must be one the other workers reach (not 0.0.0.0). CPU only.\n\n"
    "  --listen HOST:PORT   the interface and port to listen on (only that interface)\n"
    "  --rank R             refuse to be any rank but R of a split model (default: any)\n"
    "  --device DEVICE      cpu or cuda:N (default cpu)\n"
    "  --model PATH         model directory, llama2.c checkpoint, or dummy:<preset>\n"
    "                       (default models/stories260K)\n\n"
    "The links are neither authenticated nor encrypted: anyone who reaches the ports can drive\n"
    "the executor. Listen on a private network only.\n";

// Waits for SIGTERM or SIGINT.
class StopSignal {
 public:
  void stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stopped_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

actors::HostPort listen_endpoint(const Args& args) {
  const auto listen = args.get("listen");
  if (!listen) throw CliError("--listen HOST:PORT is required (see --help)");
  try {
    return actors::parse_host_port(*listen, "--listen");
  } catch (const std::invalid_argument& e) {
    throw CliError(e.what());
  }
}

}  // namespace

int run_worker(int argc, char** argv) {
  Args args(argc, argv, {});
  if (args.answered_help(kHelp)) return 0;
  args.reject_unknown({"listen", "rank", "device", "model"});
  const auto endpoint = listen_endpoint(args);
  auto served = std::make_shared<actors::WorkerModel>();
  served->device = args.get_or("device", "cpu");
  served->rank = static_cast<int>(args.get_int("rank", -1, 0, 4095));
  served->gloo_host = endpoint.host;
  const auto model_path = args.get_or("model", "models/stories260K");

  SignalWatcher::block_in_this_thread();
  Logger logger;
  StopSignal stop;
  SignalWatcher signals([&] { stop.stop(); }, [] {});
  served->loaded = model::load_model(model_path);
  // Fails here, not at the first server, for a device this build lacks.
  kernels::make_backend(served->device);

  auto runtime = actors::make_runtime(true, 2);  // setup blocks one thread in the rendezvous
  auto worker = actors::spawn_worker(*runtime.system, served);
  auto port = runtime.system->middleman().publish(worker, endpoint.port, endpoint.host.c_str(), true);
  if (!port) {
    caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
    throw std::runtime_error("cannot listen on " + *args.get("listen") + ": " + runtime.system->render(port.error()));
  }
  logger.log(LogLevel::info, "worker listening",
             {{"host", endpoint.host}, {"port", std::to_string(*port)}, {"model", served->loaded.config.name},
              {"device", served->device}, {"rank", served->rank < 0 ? "any" : std::to_string(served->rank)}});
  stop.wait();
  logger.log(LogLevel::info, "worker stopping");
  // The worker ends the executor it set up, whose step thread is joined
  // after the step in progress; the actor system's teardown then waits for
  // nothing else (the middleman closes the server's connection).
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
  return 0;
}

}  // namespace pagedserve::cli
