// `pagedserve serve` as a service manager sees it: exit statuses that say
// whether restarting can help, and log lines with journald priorities when
// stderr is the journal.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "cli/exit_codes.hpp"
#include "run_command.hpp"
#include "test_util.hpp"

using namespace pagedserve;

namespace {

// A loopback port nothing listens on right now.
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string serve_missing_model() {
  return "serve --model /nonexistent/model --host 127.0.0.1 --port " + std::to_string(free_port());
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("serve exits with the model error status when the model is missing", "[serve][exit]") {
  auto r = testing::run_pagedserve(serve_missing_model());
  INFO(r.output);
  CHECK(r.exit_code == cli::kExitModelError);
  CHECK(r.output.find("the model failed to load") != std::string::npos);
}

TEST_CASE("serve exits with the configuration error status on a bad setting or config file", "[serve][exit]") {
  CHECK(testing::run_pagedserve("serve --config /nonexistent/pagedserve.json").exit_code == cli::kExitConfigError);
  CHECK(testing::run_pagedserve("serve --block-size 0").exit_code == cli::kExitConfigError);
  CHECK(testing::run_pagedserve("serve --no-such-setting 1").exit_code == cli::kExitConfigError);
}

TEST_CASE("log lines carry journald priorities when stderr is the journal stream", "[serve][journal]") {
  const std::string path = "/tmp/pagedserve-journal-test-" + std::to_string(::getpid());
  const std::string run = std::string(PAGEDSERVE_BINARY) + " " + serve_missing_model() + " 2>" + path;
  REQUIRE(std::system(("true >" + path).c_str()) == 0);
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  // systemd names the stream "device:inode"; the file stands in for its socket.
  const std::string stream = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);

  std::system(("JOURNAL_STREAM=" + stream + " " + run).c_str());
  const std::string journal = testing::read_file(path);
  INFO(journal);
  CHECK(journal.find("<6>ts=") != std::string::npos);  // info: listening
  CHECK(journal.find("<3>ts=") != std::string::npos);  // error: the model failed to load
  for (const auto& line : lines_of(journal)) {
    CHECK(line.size() > 3);
    CHECK(line[0] == '<');
    if (line.find("level=error") != std::string::npos) CHECK(line.rfind("<3>", 0) == 0);
    if (line.find("level=info") != std::string::npos) CHECK(line.rfind("<6>", 0) == 0);
  }

  // Another stream (stderr is a terminal or a file of the operator's): no prefixes.
  std::system(("JOURNAL_STREAM=1:1 " + run).c_str());
  const std::string plain = testing::read_file(path);
  INFO(plain);
  CHECK(plain.rfind("ts=", 0) == 0);
  CHECK(plain.find("<6>") == std::string::npos);
  std::remove(path.c_str());
}
