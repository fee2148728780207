#pragma once
// The systemd notification protocol (sd_notify) without libsystemd: one
// datagram to the socket named by $NOTIFY_SOCKET. Outside systemd every call
// is a no-op, so the server behaves the same when run by hand.

#include <chrono>
#include <optional>
#include <string_view>

namespace pagedserve::cli {

// Sends `state` (e.g. "READY=1"); returns false when not under systemd or
// the send failed (never throws: notification is best effort).
bool systemd_notify(std::string_view state);

// Half of $WATCHDOG_USEC when systemd's watchdog is on for this process
// (the interval at which to send WATCHDOG=1), else nothing.
std::optional<std::chrono::microseconds> systemd_watchdog_interval();

}  // namespace pagedserve::cli
