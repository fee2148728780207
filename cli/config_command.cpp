// `pagedserve config`: the settings, their defaults, and checking a file.

#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/settings.hpp"

namespace pagedserve::cli {

int run_config(int argc, char** argv) {
  Args args(argc, argv, {"markdown", "help"});
  if (args.answered_help("usage: pagedserve config [--markdown | --check FILE]\n"
                          "  prints every setting with its default as JSON (a valid config file);\n"
                          "  --markdown prints the table of settings; --check FILE validates a config file.\n"))
    return 0;
  args.reject_unknown({"markdown", "check"});
  if (args.flag("markdown")) {
    std::fputs(settings_markdown_table().c_str(), stdout);
    return 0;
  }
  Settings settings;
  if (auto file = args.get("check")) {
    try {
      settings.load_file(*file);
    } catch (const std::invalid_argument& e) {
      throw CliError(e.what());
    }
  }
  std::fputs(settings.to_json().c_str(), stdout);
  return 0;
}

}  // namespace pagedserve::cli
