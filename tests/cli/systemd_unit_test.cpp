// The shipped unit file passes `systemd-analyze verify` (with ExecStart
// pointed at the binary just built, since /usr/bin/pagedserve is not
// installed on a build machine), starts on a stock Debian host, does not
// restart what a restart cannot fix, and outwaits the default drain.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "cli/exit_codes.hpp"
#include "test_util.hpp"

using pagedserve::testing::read_file;

namespace {

std::string shipped_unit() { return read_file(PAGEDSERVE_SOURCE_DIR "/conf/pagedserve.service"); }

// The values of every `key=` line of a unit file, in order.
std::vector<std::string> unit_values(const std::string& unit, const std::string& key) {
  std::vector<std::string> values;
  std::istringstream in(unit);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + "=", 0) == 0) values.push_back(line.substr(key.size() + 1));
  return values;
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// "90s", "2min", "1min 30s", or plain seconds, as systemd reads a time span.
double seconds_of(const std::string& span) {
  double total = 0;
  for (const auto& w : words(span)) {
    std::size_t end = 0;
    const double n = std::stod(w, &end);
    const std::string unit = w.substr(end);
    total += unit == "min" ? n * 60 : unit == "h" ? n * 3600 : unit == "ms" ? n / 1000 : n;
  }
  return total;
}

// The default config's `"key": number`.
double config_number(const std::string& key) {
  const std::string json = read_file(PAGEDSERVE_SOURCE_DIR "/conf/pagedserve.json");
  const auto at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return -1;
  return std::stod(json.substr(at + key.size() + 3));
}

}  // namespace

TEST_CASE("conf/pagedserve.service passes systemd-analyze verify", "[systemd]") {
  if (std::system("command -v systemd-analyze >/dev/null 2>&1") != 0) {
    WARN("systemd-analyze is not installed: unit verification not run");
    return;
  }
  std::string unit = shipped_unit();
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

TEST_CASE("the unit names no group that a stock Debian 12 host lacks", "[systemd]") {
  // `render` exists only where a GPU driver's udev rules made it; a unit
  // naming a missing group fails to start (status 216/GROUP). The package's
  // postinst adds the user to video and render where they exist instead.
  const std::string unit = shipped_unit();
  CHECK(unit_values(unit, "SupplementaryGroups").empty());
  CHECK(unit_values(unit, "Group") == std::vector<std::string>{"pagedserve"});
  const std::string postinst = read_file(PAGEDSERVE_SOURCE_DIR "/conf/debian/postinst");
  CHECK(postinst.find("for group in video render") != std::string::npos);
}

TEST_CASE("the unit does not restart on configuration or model errors, or after a forced stop", "[systemd]") {
  const auto prevent = unit_values(shipped_unit(), "RestartPreventExitStatus");
  REQUIRE(prevent.size() == 1);
  const auto statuses = words(prevent[0]);
  using namespace pagedserve::cli;
  for (int status : {kExitConfigError, kExitModelError, kExitForcedStop})
    CHECK(std::count(statuses.begin(), statuses.end(), std::to_string(status)) == 1);
  CHECK(std::count(statuses.begin(), statuses.end(), std::to_string(kExitFailure)) == 0);  // the engine died: restart
  CHECK(unit_values(shipped_unit(), "Restart") == std::vector<std::string>{"on-failure"});
}

TEST_CASE("the unit waits longer for a stop than the default config drains", "[systemd]") {
  const auto stop = unit_values(shipped_unit(), "TimeoutStopSec");
  REQUIRE(stop.size() == 1);
  const double drain = config_number("drain_timeout");
  REQUIRE(drain >= 0);
  // The drain, then shutting the engine down and closing connections.
  CHECK(seconds_of(stop[0]) >= drain + 30);
}

TEST_CASE("models have a writable home the unit can see: its StateDirectory", "[systemd]") {
  // ProtectHome=yes hides /home, /root and /run/user: models go under
  // /var/lib/pagedserve, which README "Running as a service" says.
  const std::string unit = shipped_unit();
  CHECK(unit_values(unit, "ProtectHome") == std::vector<std::string>{"yes"});
  CHECK(unit_values(unit, "StateDirectory") == std::vector<std::string>{"pagedserve"});
  CHECK(read_file(PAGEDSERVE_SOURCE_DIR "/README.md").find("/var/lib/pagedserve/models") != std::string::npos);
}
