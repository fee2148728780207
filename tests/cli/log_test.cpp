#include "cli/log.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>

#include "test_util.hpp"

using namespace pagedserve::cli;

TEST_CASE("log lines are logfmt with quoting where needed", "[log]") {
  CHECK(Logger::format_value("abc") == "abc");
  CHECK(Logger::format_value("a b") == "\"a b\"");
  CHECK(Logger::format_value("") == "\"\"");
  CHECK(Logger::format_value("say \"hi\"\n") == "\"say \\\"hi\\\"\\n\"");
  CHECK(Logger::format_value("k=v") == "\"k=v\"");
}

TEST_CASE("levels filter, fields follow the message, and reopen follows rotation", "[log]") {
  const std::string path = "/tmp/pagedserve-log-test-" + std::to_string(::getpid());
  std::remove(path.c_str());
  {
    Logger log(LogLevel::info, path);
    log.log(LogLevel::debug, "hidden");
    log.log(LogLevel::info, "request done", {{"id", "r1"}, {"completion_tokens", "64"}, {"finish_reason", "length"}});
    std::rename(path.c_str(), (path + ".1").c_str());  // logrotate
    log.reopen();
    log.set_level(LogLevel::debug);
    log.log(LogLevel::debug, "after rotation");
  }
  const std::string rotated = pagedserve::testing::read_file(path + ".1");
  CHECK(rotated.find("hidden") == std::string::npos);
  CHECK(rotated.find("level=info msg=\"request done\" id=r1 completion_tokens=64 finish_reason=length\n") != std::string::npos);
  CHECK(rotated.rfind("ts=", 0) == 0);
  CHECK(pagedserve::testing::read_file(path).find("level=debug msg=\"after rotation\"") != std::string::npos);
  CHECK_THROWS_WITH(parse_log_level("loud"), Catch::Contains("unknown log level"));
  std::remove(path.c_str());
  std::remove((path + ".1").c_str());
}
