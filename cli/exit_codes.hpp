#pragma once
// The exit statuses of `pagedserve` (README "Exit status"). The systemd unit
// names kExitConfigError, kExitModelError and kExitForcedStop in
// RestartPreventExitStatus=: restarting cannot fix a bad configuration or a
// missing model, and a forced stop was asked for.

namespace pagedserve::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;      // a runtime failure (the engine died, the port is taken): a restart may help
constexpr int kExitConfigError = 2;  // a bad flag, setting or config file
constexpr int kExitModelError = 3;   // the model is missing or cannot be loaded
constexpr int kExitForcedStop = 4;   // a second SIGTERM/SIGINT cut the drain short

}  // namespace pagedserve::cli
