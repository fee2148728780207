#include "cli/settings.hpp"

#include <catch2/catch.hpp>

#include "test_util.hpp"
#include <fstream>
#include <sstream>

using namespace pagedserve::cli;

using pagedserve::testing::read_file;

TEST_CASE("conf/pagedserve.json holds exactly the code's defaults", "[settings]") {
  CHECK(read_file(PAGEDSERVE_SOURCE_DIR "/conf/pagedserve.json") == Settings().to_json());
}

TEST_CASE("README's table of settings is the one the code generates", "[settings]") {
  CHECK(read_file(PAGEDSERVE_SOURCE_DIR "/README.md").find(settings_markdown_table()) != std::string::npos);
}

TEST_CASE("a config file sets values and the defaults round-trip", "[settings]") {
  Settings s;
  s.load_json(R"({"block_size": 32, "swap_space": 8, "preemption_mode": "swap", "enable_prefix_caching": false})", "t");
  CHECK(s.get_int("block_size") == 32);
  CHECK(s.get_double("swap_space") == 8.0);
  CHECK(s.get_string("preemption_mode") == "swap");
  CHECK_FALSE(s.get_bool("enable_prefix_caching"));
  Settings copy;
  copy.load_json(s.to_json(), "round trip");
  CHECK(copy.to_json() == s.to_json());
}

TEST_CASE("bad config files are refused naming the key", "[settings]") {
  Settings s;
  CHECK_THROWS_WITH(s.load_json(R"({"blok_size": 16})", "f.json"), Catch::Contains("unknown setting 'blok_size'"));
  CHECK_THROWS_WITH(s.load_json(R"({"block_size": "16"})", "f.json"), Catch::Contains("block_size must be an integer"));
  CHECK_THROWS_WITH(s.load_json(R"({"port": 70000})", "f.json"), Catch::Contains("port must be in [1, 65535]"));
  CHECK_THROWS_WITH(s.load_json(R"({"gpu_memory_utilization": 1.5})", "f.json"), Catch::Contains("gpu_memory_utilization"));
  CHECK_THROWS_WITH(s.load_json(R"({"preemption_mode": "pause"})", "f.json"), Catch::Contains("one of recompute, swap"));
  CHECK_THROWS_WITH(s.load_json(R"([1, 2])", "f.json"), Catch::Contains("not a JSON object"));
  CHECK_THROWS_WITH(s.load_json(R"({"block_size": 16)", "f.json"), Catch::Contains("not a JSON object"));
  CHECK_THROWS_WITH(s.load_file("/nonexistent.json"), Catch::Contains("cannot read config file"));
}

TEST_CASE("command-line values override with the same checks", "[settings]") {
  Settings s;
  s.set_from_text("block_size", "8");
  s.set_from_text("enable_prefix_caching", "false");
  s.set_from_text("watermark", "0.05");
  CHECK(s.get_int("block_size") == 8);
  CHECK_FALSE(s.get_bool("enable_prefix_caching"));
  CHECK_THROWS_WITH(s.set_from_text("block_size", "8x"), Catch::Contains("--block-size must be an integer"));
  CHECK_THROWS_WITH(s.set_from_text("watermark", "0.9"), Catch::Contains("watermark must be in"));
  CHECK_THROWS_WITH(s.set_from_text("nope", "1"), Catch::Contains("unknown setting"));
}
