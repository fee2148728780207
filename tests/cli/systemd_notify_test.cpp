#include "cli/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace pagedserve::cli;

namespace {

// A datagram socket standing where systemd's notify socket would be.
struct NotifyListener {
  int fd = -1;
  std::string path;
  NotifyListener() {
    path = "/tmp/pagedserve-notify-" + std::to_string(::getpid());
    ::unlink(path.c_str());
    fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~NotifyListener() {
    ::close(fd);
    ::unlink(path.c_str());
  }
  std::string receive() {
    char buf[256];
    ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }
};

}  // namespace

TEST_CASE("notifications reach the socket named by NOTIFY_SOCKET", "[systemd]") {
  NotifyListener listener;
  ::setenv("NOTIFY_SOCKET", listener.path.c_str(), 1);
  CHECK(systemd_notify("READY=1"));
  CHECK(listener.receive() == "READY=1");
  CHECK(systemd_notify("STOPPING=1"));
  CHECK(listener.receive() == "STOPPING=1");
  ::unsetenv("NOTIFY_SOCKET");
}

TEST_CASE("outside systemd notifying does nothing", "[systemd]") {
  ::unsetenv("NOTIFY_SOCKET");
  CHECK_FALSE(systemd_notify("READY=1"));
}

TEST_CASE("the watchdog interval is half of WATCHDOG_USEC, for this process only", "[systemd]") {
  ::setenv("WATCHDOG_USEC", "10000000", 1);
  ::unsetenv("WATCHDOG_PID");
  REQUIRE(systemd_watchdog_interval().has_value());
  CHECK(systemd_watchdog_interval()->count() == 5000000);
  ::setenv("WATCHDOG_PID", "1", 1);
  CHECK_FALSE(systemd_watchdog_interval().has_value());
  ::setenv("WATCHDOG_USEC", "junk", 1);
  ::unsetenv("WATCHDOG_PID");
  CHECK_FALSE(systemd_watchdog_interval().has_value());
  ::unsetenv("WATCHDOG_USEC");
  CHECK_FALSE(systemd_watchdog_interval().has_value());
}
