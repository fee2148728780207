// The worker link's plain parts: HOST:PORT as users type it, and the
// comparison that refuses a worker serving another model by name.

#include "actors/worker_link.hpp"

#include <catch2/catch.hpp>

using namespace pagedserve;
using actors::parse_host_port;

TEST_CASE("HOST:PORT parses names, IPv4 and bracketed IPv6 addresses", "[worker_link]") {
  auto a = parse_host_port("127.0.0.1:7000", "--listen");
  CHECK(a.host == "127.0.0.1");
  CHECK(a.port == 7000);
  auto b = parse_host_port("gpu-node-3:65535", "--executor");
  CHECK(b.host == "gpu-node-3");
  CHECK(b.port == 65535);
  auto c = parse_host_port("[::1]:1", "--listen");
  CHECK(c.host == "::1");
  CHECK(c.port == 1);
}

TEST_CASE("a bad HOST:PORT is refused naming the flag and the text", "[worker_link]") {
  for (std::string bad : {"", "localhost", ":7000", "host:", "host:0", "host:65536", "host:70000000", "host:7x",
                          "host:-1", "[::1:7000", "[]:7000"}) {
    INFO(bad);
    try {
      parse_host_port(bad, "--executor");
      FAIL("accepted");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).rfind("--executor '" + bad + "'", 0) == 0);
    }
  }
}

TEST_CASE("the first field in which the worker's model differs is named", "[worker_link]") {
  model::ModelConfig config = model::preset_config("stories260K");
  config.name = "stories260K";
  const auto ours = actors::shape_of(config);
  CHECK_FALSE(actors::shape_mismatch(ours, ours).has_value());
  auto theirs = ours;
  theirs.num_kv_heads += 1;
  CHECK(actors::shape_mismatch(ours, theirs) == std::optional<std::string>("num_kv_heads"));
  theirs = ours;
  theirs.eos_ids.push_back(7);
  CHECK(actors::shape_mismatch(ours, theirs) == std::optional<std::string>("eos_ids"));
  theirs.name = "stories15M";
  CHECK(actors::shape_mismatch(ours, theirs) == std::optional<std::string>("name"));
}

TEST_CASE("the executor setup carries the server's settings, with max_model_len resolved", "[worker_link]") {
  actors::EngineConfig config;
  config.dtype = "f16";
  config.block_size = 32;
  config.num_gpu_blocks = 99;
  config.swap_space_gib = 0.5;
  config.max_num_seqs = 7;
  config.max_model_len = 0;
  const grammar::Vocabulary vocabulary({"", "a", "bc"}, {0});
  const auto setup = actors::executor_setup(config, 512, vocabulary);
  CHECK(setup.dtype == "f16");
  CHECK(setup.block_size == 32);
  CHECK(setup.num_gpu_blocks == 99);
  CHECK(setup.swap_space_gib == 0.5);
  CHECK(setup.max_num_seqs == 7);
  CHECK(setup.max_model_len == 512);
  CHECK(setup.token_bytes == std::vector<std::string>{"", "a", "bc"});
  CHECK(setup.eos_ids == std::vector<std::int32_t>{0});
}

TEST_CASE("a worker builds its vocabulary from the setup, and only for its model's size", "[worker_link]") {
  actors::ExecutorSetup setup;
  setup.token_bytes = {"", "a", "bc", "b"};
  setup.eos_ids = {0};
  auto vocabulary = actors::setup_vocabulary(setup, 4);
  REQUIRE(vocabulary);
  CHECK(vocabulary->size() == 4);
  CHECK(vocabulary->bytes(2) == "bc");
  CHECK(vocabulary->is_eos(0));
  CHECK_THROWS_WITH(actors::setup_vocabulary(setup, 512), Catch::Contains("4 tokens, the model 512"));
}
