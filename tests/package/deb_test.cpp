// The Debian package as cmake/Install.cmake and cpack build it from this
// build directory: its dependencies are exactly the libraries the binary
// links (OpenBLAS's OpenMP build), it stops the service on removal and
// cleans up on purge, rotates its logs, passes lintian with each kept tag
// explained, and the packaged binary serves a request with the packaged
// configuration when started the way the unit starts it.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "test_util.hpp"

namespace {

const std::string kBuildDir = [] {
  std::string binary = PAGEDSERVE_BINARY;
  return binary.substr(0, binary.rfind('/'));
}();

// Runs a shell command; its stdout (stderr too with 2>&1 in `cmd`).
std::string sh(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int rc = ::pclose(pipe);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

bool has_command(const std::string& name) { return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0; }

// A directory removed when the test process exits.
struct ScratchDir {
  std::string path = "/tmp/pagedserve-deb-test-" + std::to_string(::getpid());
  ~ScratchDir() { std::system(("rm -rf " + path).c_str()); }
};

// Builds the .deb once per test process, into a fresh directory.
const std::string& built_deb() {
  static const ScratchDir scratch;
  static const std::string deb = [] {
    const std::string& dir = scratch.path;
    int status = 0;
    const std::string log = sh("rm -rf " + dir + " && cpack --config " + kBuildDir + "/CPackConfig.cmake -B " + dir +
                               " 2>&1", &status);
    INFO(log);
    REQUIRE(status == 0);
    return sh("ls " + dir + "/pagedserve_*.deb | head -n1 | tr -d '\\n'");
  }();
  return deb;
}

std::set<std::string> depends_packages(const std::string& deb) {
  std::set<std::string> names;
  std::istringstream in(sh("dpkg-deb -f " + deb + " Depends"));
  for (std::string item; std::getline(in, item, ',');) {
    std::istringstream words(item);
    std::string name;
    words >> name;
    names.insert(name);
  }
  return names;
}

// The Debian package of each library the binary names (DT_NEEDED), where
// the loader finds it.
std::set<std::string> linked_packages() {
  std::set<std::string> packages;
  const std::string binary = PAGEDSERVE_BINARY;
  std::istringstream in(sh("for lib in $(objdump -p " + binary + " | awk '$1 == \"NEEDED\" {print $2}'); do ldd " +
                           binary + " | awk -v lib=$lib '$1 == lib && $2 == \"=>\" {print $3}'; done"));
  for (std::string path; std::getline(in, path);) {
    const std::string real = sh("realpath " + path + " | tr -d '\\n'");
    std::string owner = sh("dpkg -S " + real + " 2>/dev/null | head -n1 | cut -d: -f1");
    if (owner.empty()) owner = sh("dpkg -S " + path + " 2>/dev/null | head -n1 | cut -d: -f1");
    if (!owner.empty()) packages.insert(owner.substr(0, owner.find_first_of("\n")));
  }
  return packages;
}

}  // namespace

TEST_CASE("the package depends on exactly the libraries the binary links, OpenBLAS's OpenMP build", "[package]") {
  if (!has_command("cpack") || !has_command("dpkg-shlibdeps")) {
    WARN("cpack or dpkg-shlibdeps is not installed: package not built");
    return;
  }
  const auto depends = depends_packages(built_deb());
  INFO(sh("dpkg-deb -f " + built_deb() + " Depends"));
  CHECK(depends.count("libopenblas0-openmp") == 1);
  CHECK(depends.count("libopenblas0") == 0);  // would let apt pick the pthread build
  CHECK(depends.count("libcaf-io0.17") == 1);  // the worker link (pagedserve worker, serve --executor)
  CHECK(depends.count("adduser") == 1);         // postinst creates the user
  const auto linked = linked_packages();
  REQUIRE(linked.size() >= 5);
  for (const auto& package : linked) {
    INFO("linked library from " << package);
    CHECK(depends.count(package) == 1);
  }
  for (const auto& package : depends) {
    INFO("depends on " << package);
    CHECK((linked.count(package) == 1 || package == "adduser"));
  }
}

TEST_CASE("the package installs FHS paths, keeps its config files, and stops and cleans up on removal",
          "[package]") {
  if (!has_command("cpack") || !has_command("dpkg-shlibdeps")) {
    WARN("cpack or dpkg-shlibdeps is not installed: package not built");
    return;
  }
  const std::string contents = sh("dpkg-deb -c " + built_deb());
  INFO(contents);
  for (const char* path : {"./usr/bin/pagedserve", "./etc/pagedserve/pagedserve.json", "./etc/logrotate.d/pagedserve",
                           "./usr/lib/systemd/system/pagedserve.service", "./usr/share/doc/pagedserve/copyright",
                           "./usr/share/pagedserve/models/stories260K/stories260K.bin"})
    CHECK(contents.find(std::string(path) + "\n") != std::string::npos);
  const std::string conffiles = sh("dpkg-deb -I " + built_deb() + " conffiles");
  CHECK(conffiles.find("/etc/pagedserve/pagedserve.json") != std::string::npos);
  CHECK(conffiles.find("/etc/logrotate.d/pagedserve") != std::string::npos);
  const std::string prerm = sh("dpkg-deb -I " + built_deb() + " prerm");
  CHECK(prerm.find("deb-systemd-invoke stop pagedserve.service") != std::string::npos);
  const std::string postrm = sh("dpkg-deb -I " + built_deb() + " postrm");
  CHECK(postrm.find("rm -rf /var/log/pagedserve") != std::string::npos);
  CHECK(postrm.find("deluser --quiet --system pagedserve") != std::string::npos);
  const std::string logrotate = sh("dpkg-deb --fsys-tarfile " + built_deb() + " | tar -xOf - ./etc/logrotate.d/pagedserve");
  CHECK(logrotate.find("/var/log/pagedserve/*.log") != std::string::npos);
  CHECK(logrotate.find("systemctl reload pagedserve.service") != std::string::npos);
}

TEST_CASE("lintian finds nothing the package does not explain in its overrides", "[package]") {
  if (!has_command("cpack") || !has_command("dpkg-shlibdeps") || !has_command("lintian")) {
    WARN("cpack, dpkg-shlibdeps or lintian is not installed: lintian not run");
    return;
  }
  int status = 0;
  const std::string report = sh("lintian --fail-on error,warning,info --suppress-tags unused-override -I " + built_deb() + " 2>&1", &status);
  INFO(report);
  CHECK(status == 0);
}

TEST_CASE("the packaged binary serves a request with the packaged configuration, started as the unit starts it",
          "[package]") {
  if (!has_command("cpack") || !has_command("dpkg-shlibdeps") || !has_command("curl")) {
    WARN("cpack, dpkg-shlibdeps or curl is not installed: packaged binary not run");
    return;
  }
  const std::string root = "/tmp/pagedserve-deb-root-" + std::to_string(::getpid());
  REQUIRE(std::system(("rm -rf " + root + " && dpkg-deb -x " + built_deb() + " " + root).c_str()) == 0);
  // The installed unit's ExecStart, with the package's paths under `root`.
  const std::string unit = pagedserve::testing::read_file(root + "/usr/lib/systemd/system/pagedserve.service");
  const std::string exec_start = "ExecStart=/usr/bin/pagedserve serve --config /etc/pagedserve/pagedserve.json";
  REQUIRE(unit.find(exec_start + "\n") != std::string::npos);
  const std::string port = std::to_string(20000 + ::getpid() % 20000);
  const std::string log = root + "/serve.log";
  const pid_t child = ::fork();
  if (child == 0) {
    ::execl((root + "/usr/bin/pagedserve").c_str(), "pagedserve", "serve", "--config",
            (root + "/etc/pagedserve/pagedserve.json").c_str(), "--model",
            (root + "/usr/share/pagedserve/models/stories260K").c_str(), "--port", port.c_str(), "--log-file",
            log.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const std::string url = "http://127.0.0.1:" + port;
  bool healthy = false;
  for (int i = 0; i < 300 && !healthy; ++i) {
    healthy = sh("curl -s -o /dev/null -w '%{http_code}' " + url + "/health") == "200";
    if (!healthy) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string completion = sh("curl -s " + url +
                                    "/v1/completions -H 'Content-Type: application/json' -d "
                                    "'{\"prompt\":\"Once upon a time\",\"max_tokens\":8,\"temperature\":0}'");
  ::kill(child, SIGTERM);
  int status = 0;
  ::waitpid(child, &status, 0);
  INFO(pagedserve::testing::read_file(log));
  CHECK(healthy);
  CHECK(completion.find("\"completion_tokens\":8") != std::string::npos);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::system(("rm -rf " + root).c_str());
}
