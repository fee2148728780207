// The collectives and pipeline link between processes (Gloo over TCP on
// 127.0.0.1): ranks as threads, meeting through a store in memory, give
// the in-process group's bits; ranks as processes, meeting through files,
// fail fast (no hang: a waiting receive, the next collective and send)
// when one is killed; abort releases a waiting rank.

#include "kernels/gloo/gloo_collective.hpp"

#include <gloo/rendezvous/file_store.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/rendezvous/store.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <random>
#include <thread>

using namespace pagedserve;
using namespace std::chrono_literals;
using kernels::DType;
using kernels::Tensor;

namespace {

// A store in memory whose get waits for its key (Gloo's HashStore's does not).
class MemoryStore final : public gloo::rendezvous::Store {
 public:
  void set(const std::string& key, const std::vector<char>& data) override {
    std::lock_guard lock(mu_);
    values_[key] = data;
    cv_.notify_all();
  }
  std::vector<char> get(const std::string& key) override {
    wait({key});
    std::lock_guard lock(mu_);
    return values_.at(key);
  }
  void wait(const std::vector<std::string>& keys) override { wait(keys, 30s); }
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override {
    std::unique_lock lock(mu_);
    const bool all = cv_.wait_for(lock, timeout, [&] {
      for (const auto& k : keys)
        if (!values_.count(k)) return false;
      return true;
    });
    if (!all) throw std::runtime_error("store: timeout");
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<char>> values_;
};

// Runs `body(rank, context)` on `world` threads, each a rank of one mesh.
void on_ranks(int world, const std::function<void(int, std::shared_ptr<gloo::Context>)>& body,
              std::chrono::milliseconds timeout = kernels::kGlooTimeout) {
  MemoryStore store;
  auto device = kernels::make_gloo_device("127.0.0.1");
  std::vector<std::future<void>> ranks;
  for (int r = 0; r < world; ++r)
    ranks.push_back(std::async(std::launch::async, [&, r] { body(r, kernels::connect_gloo_mesh(store, device, r, world, timeout)); }));
  for (auto& f : ranks) f.get();  // rethrows a rank's failure
}

// Values of very different sizes: a sum's bits depend on its order.
std::vector<float> spread_values(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> mantissa(-1.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-20, 20);
  std::vector<float> v(n);
  for (auto& x : v) x = std::ldexp(mantissa(gen), exponent(gen));
  return v;
}

// The in-process group's sums of `inputs` (one vector per rank).
std::vector<std::vector<float>> in_process_sums(std::vector<std::vector<float>> inputs) {
  const int world = static_cast<int>(inputs.size());
  auto group = kernels::make_in_process_group(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r)
    threads.emplace_back([&, r] {
      auto& v = inputs[static_cast<std::size_t>(r)];
      group->member(r).all_reduce_sum(Tensor{v.data(), DType::f32, 1, static_cast<std::int64_t>(v.size())});
    });
  for (auto& t : threads) t.join();
  return inputs;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("Gloo's all_reduce_sum gives every rank the in-process group's bits", "[gloo]") {
  // Small buffers go whole to every peer; large ones (over 64Ki values
  // received) by slices, some of them empty when n < world.
  for (const std::size_t n : {std::size_t{1001}, std::size_t{2}, std::size_t{50001}}) {
    INFO("n = " << n);
    const int world = 3;
    std::vector<std::vector<float>> inputs;
    for (int r = 0; r < world; ++r) inputs.push_back(spread_values(n, 10u + static_cast<unsigned>(r)));
    const auto expected = in_process_sums(inputs);
    auto got = inputs;
    on_ranks(world, [&](int r, std::shared_ptr<gloo::Context> context) {
      kernels::GlooCollective c(std::move(context));
      CHECK(c.rank() == r);
      CHECK(c.world_size() == world);
      auto& v = got[static_cast<std::size_t>(r)];
      for (int round = 0; round < 3; ++round) {  // again and again on the same mesh
        v = inputs[static_cast<std::size_t>(r)];
        c.all_reduce_sum(Tensor{v.data(), DType::f32, 1, static_cast<std::int64_t>(n)});
      }
    });
    for (int r = 0; r < world; ++r) CHECK(same_bits(got[static_cast<std::size_t>(r)], expected[0]));
  }
}

TEST_CASE("Gloo's all_gather_columns puts every rank's columns side by side in rank order", "[gloo]") {
  const int world = 3, rows = 4, cols = 10;  // parts of 3, 3 and 4 columns
  std::vector<std::vector<float>> outs(world, std::vector<float>(rows * cols, -1.0f));
  on_ranks(world, [&](int r, std::shared_ptr<gloo::Context> context) {
    kernels::GlooCollective c(std::move(context));
    const int first = cols * r / world, width = cols * (r + 1) / world - first;
    std::vector<float> part(static_cast<std::size_t>(rows * width));
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < width; ++j) part[static_cast<std::size_t>(i * width + j)] = static_cast<float>(100 * i + first + j);
    auto& out = outs[static_cast<std::size_t>(r)];
    c.all_gather_columns(Tensor{part.data(), DType::f32, rows, width}, Tensor{out.data(), DType::f32, rows, cols});
    // A part that is not the rank's share is refused, before any message.
    std::vector<float> wrong(static_cast<std::size_t>(rows * (width + 1)));
    CHECK_THROWS_AS(c.all_gather_columns(Tensor{wrong.data(), DType::f32, rows, width + 1},
                                         Tensor{out.data(), DType::f32, rows, cols}),
                    std::logic_error);
    // No rows: nothing to send.
    c.all_gather_columns(Tensor{part.data(), DType::f32, 0, width}, Tensor{out.data(), DType::f32, 0, cols});
  });
  for (const auto& out : outs)
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) CHECK(out[static_cast<std::size_t>(i * cols + j)] == static_cast<float>(100 * i + j));
}

TEST_CASE("a Gloo pipeline link hands micro-batches on in order, and the sender does not wait for the receiver", "[gloo]") {
  std::vector<kernels::HiddenState> sent;
  for (int k = 0; k < 4; ++k) {
    kernels::HiddenState h;
    const std::size_t n = k == 2 ? 0 : static_cast<std::size_t>(64 * (k + 1));  // an empty one too
    for (std::size_t i = 0; i < n; ++i) {
      h.x.push_back(static_cast<float>(k * 1000 + static_cast<int>(i)));
      h.residual.push_back(-static_cast<float>(i));
    }
    sent.push_back(h);
  }
  std::promise<void> all_sent, all_received;
  auto sent_future = all_sent.get_future().share();
  auto received_future = all_received.get_future().share();
  on_ranks(2, [&](int r, std::shared_ptr<gloo::Context> context) {
    kernels::GlooStageLink link(std::move(context));
    if (r == 0) {
      for (const auto& h : sent) link.send(h);
      all_sent.set_value();
      CHECK_THROWS_AS(link.receive(), std::logic_error);  // this end sends
      // The data leaves once the receiver asks for it: the link must live until then.
      REQUIRE(received_future.wait_for(10s) == std::future_status::ready);
    } else {
      // Every micro-batch but the last was taken before the receiver asked.
      REQUIRE(sent_future.wait_for(10s) == std::future_status::ready);
      for (const auto& h : sent) {
        auto got = link.receive();
        CHECK(got.x == h.x);
        CHECK(got.residual == h.residual);
      }
      all_received.set_value();
    }
  });
}

TEST_CASE("abort releases a rank waiting for a peer, and the peer's next collective throws", "[gloo]") {
  std::promise<void> aborted;
  auto aborted_future = aborted.get_future().share();
  on_ranks(2, [&](int r, std::shared_ptr<gloo::Context> context) {
    kernels::GlooCollective c(std::move(context));
    std::vector<float> v(16, 1.0f);
    const Tensor t{v.data(), DType::f32, 1, 16};
    if (r == 0) {
      auto aborter = std::async(std::launch::async, [&] {
        std::this_thread::sleep_for(200ms);
        c.abort();
      });
      const auto start = std::chrono::steady_clock::now();
      CHECK_THROWS_WITH(c.all_reduce_sum(t), Catch::Contains("aborted"));  // rank 1 never joins it
      CHECK(std::chrono::steady_clock::now() - start < 5s);
      aborter.get();
      CHECK_THROWS_WITH(c.all_reduce_sum(t), Catch::Contains("aborted"));
      aborted.set_value();
    } else {
      REQUIRE(aborted_future.wait_for(10s) == std::future_status::ready);
      const auto start = std::chrono::steady_clock::now();
      CHECK_THROWS_AS(c.all_reduce_sum(t), std::runtime_error);  // its peer reset the connections
      CHECK(std::chrono::steady_clock::now() - start < 5s);
    }
  });
}

TEST_CASE("ranks in processes: a rank killed mid-run makes its peer's collectives and links throw at once", "[gloo]") {
  const auto dir = std::filesystem::temp_directory_path() / ("pagedserve-gloo-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Rank 1: joins a two-rank collective and a link, answers one sum,
    // then waits to be killed.
    try {
      gloo::rendezvous::FileStore files(dir.string());
      auto device = kernels::make_gloo_device("127.0.0.1");
      gloo::rendezvous::PrefixStore tp("tp", files), pp("pp", files), back("back", files);
      kernels::GlooCollective c(kernels::connect_gloo_mesh(tp, device, 1, 2));
      kernels::GlooStageLink link(kernels::connect_gloo_mesh(pp, device, 1, 2));
      kernels::GlooStageLink silent(kernels::connect_gloo_mesh(back, device, 0, 2));  // sends nothing
      std::vector<float> v(8, 2.0f);
      c.all_reduce_sum(Tensor{v.data(), DType::f32, 1, 8});
      link.receive();
      ::pause();
    } catch (...) {
    }
    ::_exit(1);
  }
  gloo::rendezvous::FileStore files(dir.string());
  auto device = kernels::make_gloo_device("127.0.0.1");
  gloo::rendezvous::PrefixStore tp("tp", files), pp("pp", files), back("back", files);
  kernels::GlooCollective c(kernels::connect_gloo_mesh(tp, device, 0, 2));
  kernels::GlooStageLink link(kernels::connect_gloo_mesh(pp, device, 0, 2));
  kernels::GlooStageLink from_child(kernels::connect_gloo_mesh(back, device, 1, 2));
  std::vector<float> v(8, 1.0f);
  c.all_reduce_sum(Tensor{v.data(), DType::f32, 1, 8});
  CHECK(v == std::vector<float>(8, 3.0f));
  link.send({{1.0f, 2.0f}, {3.0f, 4.0f}});
  // The first micro-batch arrived; the child sits in pause() now, and this
  // process waits for a micro-batch from it that will not come.
  auto waiting = std::async(std::launch::async, [&] { return from_child.receive(); });
  std::this_thread::sleep_for(200ms);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(waiting.wait_for(10s) == std::future_status::ready);
  CHECK_THROWS_WITH(waiting.get(), Catch::Contains("receiving hidden states over Gloo"));
  CHECK_THROWS_AS(c.all_reduce_sum(Tensor{v.data(), DType::f32, 1, 8}), std::runtime_error);
  // A send does not wait for its own transfer, but for the one before it.
  CHECK_THROWS_AS((link.send({{1.0f}, {2.0f}}), link.send({{1.0f}, {2.0f}})), std::runtime_error);
  // Well within the Gloo timeout (a minute): the kernel closed the sockets.
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  std::filesystem::remove_all(dir);
}
