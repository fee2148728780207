// The command line as users of vLLM type it: boolean flags in every form,
// a positional MODEL, -h, and vLLM's spellings of our settings.

#include "cli/args.hpp"

#include <catch2/catch.hpp>

#include "cli/command_settings.hpp"

using namespace pagedserve::cli;

namespace {

// Args over a list of words, as main() hands them to a command.
Args parse(std::vector<std::string> words, std::set<std::string> flags = boolean_setting_flags()) {
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  return Args(static_cast<int>(argv.size()), argv.data(), std::move(flags));
}

Settings serve_settings(std::vector<std::string> words) {
  auto args = parse(std::move(words));
  args.reject_unknown(setting_flags(SettingScope::server), 1);
  return read_settings(args, SettingScope::server);
}

}  // namespace

TEST_CASE("a boolean flag takes --x, --no-x, --x true|false and --x=false", "[args]") {
  CHECK(parse({"--json"}, {"json"}).flag("json"));
  CHECK_FALSE(parse({"--no-json"}, {"json"}).flag("json", true));
  CHECK_FALSE(parse({"--json", "false"}, {"json"}).flag("json", true));
  CHECK(parse({"--json", "true"}, {"json"}).flag("json"));
  CHECK_FALSE(parse({"--json=false"}, {"json"}).flag("json", true));
  CHECK(parse({}, {"json"}).flag("json", true));
  CHECK_FALSE(parse({"--json", "--no-json"}, {"json"}).flag("json"));  // the last one wins
  // A word after a flag that is not a boolean is a positional argument.
  auto a = parse({"--json", "models/x"}, {"json"});
  CHECK(a.flag("json"));
  CHECK(a.positional() == std::vector<std::string>{"models/x"});
  CHECK_THROWS_WITH(parse({"--json=maybe"}, {"json"}), Catch::Contains("--json must be true or false"));
}

TEST_CASE("a lone -h is --help", "[args]") {
  CHECK(parse({"-h"}, {}).flag("help"));
  CHECK(parse({"--port", "1", "--help"}, {}).flag("help"));
}

TEST_CASE("prefix caching is off with --enable-prefix-caching false (it used to be turned on)", "[args]") {
  CHECK_FALSE(serve_settings({"--enable-prefix-caching", "false"}).get_bool("enable_prefix_caching"));
  CHECK_FALSE(serve_settings({"--no-enable-prefix-caching"}).get_bool("enable_prefix_caching"));
  CHECK_FALSE(serve_settings({"--no-prefix-caching"}).get_bool("enable_prefix_caching"));
  CHECK(serve_settings({"--enable-prefix-caching"}).get_bool("enable_prefix_caching"));
  CHECK(serve_settings({}).get_bool("enable_prefix_caching"));
}

TEST_CASE("a vllm serve command line reads as the same settings", "[args]") {
  auto s = serve_settings({"path/to/model", "--api-key", "K", "--served-model-name", "N", "--max-model-len", "64",
                           "--no-enable-prefix-caching", "--num-gpu-blocks-override", "100", "--tensor-parallel-size",
                           "1", "--pipeline-parallel-size", "1"});
  CHECK(s.get_string("model") == "path/to/model");
  CHECK(s.get_string("api_key") == "K");
  CHECK(s.get_string("served_model_name") == "N");
  CHECK(s.get_int("max_model_len") == 64);
  CHECK_FALSE(s.get_bool("enable_prefix_caching"));
  CHECK(s.get_int("num_gpu_blocks") == 100);
  CHECK(engine_config(s).num_gpu_blocks == 100);
}

TEST_CASE("a stray or second positional argument is an error", "[args]") {
  CHECK_THROWS_WITH(serve_settings({"a", "b"}), Catch::Contains("unexpected argument 'b'"));
  CHECK_THROWS_WITH(serve_settings({"a", "--model", "b"}), Catch::Contains("the model is given twice"));
  CHECK(serve_settings({"a", "--model", "a"}).get_string("model") == "a");
  auto version = parse({"extra"}, {});
  CHECK_THROWS_WITH(version.reject_unknown({}), Catch::Contains("unexpected argument 'extra'"));
}

TEST_CASE("tensor and pipeline parallelism are settings", "[args]") {
  CHECK(engine_config(serve_settings({"--tensor-parallel-size", "2"})).tensor_parallel_size == 2);
  CHECK(engine_config(serve_settings({"--pipeline-parallel-size", "4"})).pipeline_parallel_size == 4);
}

TEST_CASE("generate takes the engine's settings but not the server's", "[args]") {
  auto args = parse({"--block-size", "32", "--port", "9000"});
  CHECK_THROWS_WITH(args.reject_unknown(setting_flags(SettingScope::engine), 1), Catch::Contains("unknown option --port"));
  auto ok = parse({"m", "--block-size", "32", "--no-enable-prefix-caching"});
  ok.reject_unknown(setting_flags(SettingScope::engine), 1);
  auto s = read_settings(ok, SettingScope::engine);
  CHECK(s.get_int("block_size") == 32);
  CHECK(s.get_string("model") == "m");
  CHECK_FALSE(engine_config(s).enable_prefix_caching);
}

TEST_CASE("the API key comes from the flag, a key file, or the environment", "[args]") {
  const std::string file = "/tmp/pagedserve_args_test_key";
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    std::fputs("from-file\n", f);
    std::fclose(f);
  }
  ::unsetenv("PAGEDSERVE_API_KEY");
  ::unsetenv("VLLM_API_KEY");
  CHECK(resolve_api_key(serve_settings({})).empty());
  CHECK(resolve_api_key(serve_settings({"--api-key", "flag"})) == "flag");
  CHECK(resolve_api_key(serve_settings({"--api-key-file", file})) == "from-file");
  CHECK_THROWS_WITH(resolve_api_key(serve_settings({"--api-key", "a", "--api-key-file", file})), Catch::Contains("not both"));
  CHECK_THROWS_WITH(resolve_api_key(serve_settings({"--api-key-file", "/nonexistent/key"})), Catch::Contains("cannot read"));
  ::setenv("VLLM_API_KEY", "vllm-env", 1);
  CHECK(resolve_api_key(serve_settings({})) == "vllm-env");
  ::setenv("PAGEDSERVE_API_KEY", "our-env", 1);
  CHECK(resolve_api_key(serve_settings({})) == "our-env");
  CHECK(resolve_api_key(serve_settings({"--api-key", "flag"})) == "flag");
  ::unsetenv("PAGEDSERVE_API_KEY");
  ::unsetenv("VLLM_API_KEY");
  std::remove(file.c_str());
}
