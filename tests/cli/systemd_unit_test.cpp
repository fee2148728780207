// The shipped unit file passes `systemd-analyze verify` (with ExecStart
// pointed at the binary just built, since /usr/bin/pagedserve is not
// installed on a build machine).

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include "test_util.hpp"

using pagedserve::testing::read_file;

TEST_CASE("conf/pagedserve.service passes systemd-analyze verify", "[systemd]") {
  if (std::system("command -v systemd-analyze >/dev/null 2>&1") != 0) {
    WARN("systemd-analyze is not installed: unit verification not run");
    return;
  }
  std::string unit = read_file(PAGEDSERVE_SOURCE_DIR "/conf/pagedserve.service");
  REQUIRE(unit.find("Type=notify") != std::string::npos);
  REQUIRE(unit.find("NoNewPrivileges=yes") != std::string::npos);
  REQUIRE(unit.find("ProtectSystem=strict") != std::string::npos);
  const std::string installed = "/usr/bin/pagedserve";
  auto at = unit.find(installed);
  REQUIRE(at != std::string::npos);
  unit.replace(at, installed.size(), PAGEDSERVE_BINARY);

  std::string dir = "/tmp/pagedserve-unit-test-" + std::to_string(::getpid());
  REQUIRE(std::system(("mkdir -p " + dir).c_str()) == 0);
  std::ofstream(dir + "/pagedserve.service") << unit;
  std::string log = dir + "/verify.log";
  int rc = std::system(("systemd-analyze verify " + dir + "/pagedserve.service >" + log + " 2>&1").c_str());
  INFO(read_file(log));
  CHECK(rc == 0);
  std::system(("rm -rf " + dir).c_str());
}
