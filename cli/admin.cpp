// `pagedserve admin`: an interactive console over a running server's admin
// views (GET /admin/...). Reads commands from stdin one per line, so it
// works typed at a terminal or piped:
//   echo pool | pagedserve admin --url http://127.0.0.1:8000

#include <simdjson.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "cli/args.hpp"
#include "cli/commands.hpp"

namespace pagedserve::cli {

namespace {

namespace http = boost::beast::http;
using simdjson::dom::element;

constexpr const char* kHelp =
    "commands:\n"
    "  seqs       every live sequence with its block table\n"
    "  seq ID     one sequence: logical -> physical blocks, ref counts, sharing\n"
    "  pool       the GPU and CPU block pools (free / used / cached / shared) and a map\n"
    "  prefix     the prefix cache\n"
    "  queues     the scheduler's running, swapped and waiting queues\n"
    "  counters   engine counters\n"
    "  help       this list\n"
    "  quit       leave (end of input does too)\n";

struct Endpoint {
  std::string host, port, base;
};

Endpoint parse_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) throw CliError("--url must start with http:// (got '" + url + "')");
  std::string rest = url.substr(scheme.size());
  Endpoint e;
  const auto slash = rest.find('/');
  if (slash != std::string::npos) e.base = rest.substr(slash), rest.resize(slash);
  while (!e.base.empty() && e.base.back() == '/') e.base.pop_back();
  const auto colon = rest.rfind(':');
  e.host = colon == std::string::npos ? rest : rest.substr(0, colon);
  e.port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (e.host.empty()) throw CliError("--url has no host");
  return e;
}

// GET `path`; the status and body. Throws std::runtime_error when unreachable.
std::pair<int, std::string> get(const Endpoint& ep, const std::string& token, const std::string& path) {
  boost::asio::io_context ioc;
  boost::beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(boost::asio::ip::tcp::resolver(ioc).resolve(ep.host, ep.port));
  http::request<http::empty_body> req{http::verb::get, ep.base + path, 11};
  req.set(http::field::host, ep.host);
  req.set(http::field::user_agent, "pagedserve-admin");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  http::write(stream, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  boost::beast::error_code ec;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  return {static_cast<int>(res.result_int()), res.body()};
}

std::string str(element e) {
  std::string_view s;
  if (!e.get(s)) return std::string(s);
  return simdjson::minify(e);
}

std::int64_t num(element e, const char* key) {
  std::int64_t v = 0;
  if (e[key].get(v)) return 0;
  return v;
}

// "0->12 1->13(ref 2) ..." with shared and cached blocks marked.
std::string block_table(element seq) {
  std::ostringstream o;
  std::size_t logical = 0;
  for (element b : seq["blocks"].get_array()) {
    o << (logical ? " " : "") << logical << "->" << num(b, "id");
    if (num(b, "ref_count") > 1) o << "(ref " << num(b, "ref_count") << ")";
    if (b["cached"].get_bool().value_unsafe()) o << "*";
    ++logical;
  }
  return o.str();
}

void print_seq_line(element s) {
  std::printf("%-6lld %-28s %-3lld %-10s %-4s %-7lld %s\n", static_cast<long long>(num(s, "seq_id")),
              str(s["request_id"]).c_str(), static_cast<long long>(num(s, "index")), str(s["status"]).c_str(),
              str(s["device"]).c_str(), static_cast<long long>(num(s, "num_tokens")), block_table(s).c_str());
}

void show_seqs(element v) {
  auto seqs = v["seqs"].get_array();
  std::printf("%zu live sequences, block size %lld  (logical->physical, (ref n) shared, * prefix-cached)\n",
              seqs.size(), static_cast<long long>(num(v, "block_size")));
  std::printf("%-6s %-28s %-3s %-10s %-4s %-7s %s\n", "seq", "request", "idx", "status", "dev", "tokens", "blocks");
  for (element s : seqs) print_seq_line(s);
}

void show_seq(element s) {
  std::printf("sequence %lld of request %s (sample %lld): %s on %s, %lld tokens, %lld computed\n",
              static_cast<long long>(num(s, "seq_id")), str(s["request_id"]).c_str(),
              static_cast<long long>(num(s, "index")), str(s["status"]).c_str(), str(s["device"]).c_str(),
              static_cast<long long>(num(s, "num_tokens")), static_cast<long long>(num(s, "num_computed")));
  std::printf("  %-8s %-9s %-5s %-7s %s\n", "logical", "physical", "ref", "shared", "prefix-cached");
  std::size_t logical = 0;
  for (element b : s["blocks"].get_array())
    std::printf("  %-8zu %-9lld %-5lld %-7s %s\n", logical++, static_cast<long long>(num(b, "id")),
                static_cast<long long>(num(b, "ref_count")), num(b, "ref_count") > 1 ? "yes" : "no",
                b["cached"].get_bool().value_unsafe() ? "yes" : "no");
}

// One character per block: . free, # used once, 2-9 shared by that many, + more.
void show_pool_map(element pool) {
  std::string line;
  std::size_t id = 0;
  for (element r : pool["ref_counts"].get_array()) {
    std::int64_t ref = 0;
    if (r.get(ref)) ref = 0;
    line += ref == 0 ? '.' : ref == 1 ? '#' : ref < 10 ? static_cast<char>('0' + ref) : '+';
    if (++id % 64 == 0) std::printf("    %6zu  %s\n", id - 64, line.c_str()), line.clear();
  }
  if (!line.empty()) std::printf("    %6zu  %s\n", id - line.size(), line.c_str());
}

void show_pool(element v) {
  std::printf("block size %lld, KV utilization %s (real tokens / slots in used blocks)\n",
              static_cast<long long>(num(v, "block_size")), str(v["utilization"]).c_str());
  for (const char* name : {"gpu", "cpu"}) {
    element p = v[name];
    std::printf("%s pool: %lld total, %lld free, %lld used, %lld cached, %lld shared\n", name,
                static_cast<long long>(num(p, "total")), static_cast<long long>(num(p, "free")),
                static_cast<long long>(num(p, "used")), static_cast<long long>(num(p, "cached")),
                static_cast<long long>(num(p, "shared")));
    if (num(p, "total") <= 4096) show_pool_map(p);
  }
  std::printf("  map: . free  # used  2-9 shared by that many  + by more\n");
}

void show_prefix(element v) {
  const auto queries = num(v, "queries"), hits = num(v, "hits");
  std::printf("prefix cache %s: %lld cached blocks, %lld hits of %lld lookups (%.1f%%)\n",
              v["enabled"].get_bool().value_unsafe() ? "enabled" : "disabled",
              static_cast<long long>(num(v, "num_cached_blocks")), static_cast<long long>(hits),
              static_cast<long long>(queries), queries ? 100.0 * static_cast<double>(hits) / static_cast<double>(queries) : 0.0);
  std::string ids;
  for (element b : v["blocks"].get_array())
    ids += (ids.empty() ? "" : " ") + std::to_string(num(b, "id")) + (num(b, "ref_count") ? "" : "(free)");
  if (!ids.empty()) std::printf("  blocks: %s\n", ids.c_str());
}

void show_queues(element v) {
  for (const char* name : {"running", "swapped", "waiting"}) {
    auto q = v[name].get_array();
    std::printf("%s: %zu\n", name, q.size());
    for (element g : q)
      std::printf("  %-28s %lld seqs, %lld prompt tokens, priority %lld\n", str(g["request_id"]).c_str(),
                  static_cast<long long>(num(g, "num_seqs")), static_cast<long long>(num(g, "prompt_tokens")),
                  static_cast<long long>(num(g, "priority")));
  }
}

void show_counters(element v) {
  for (auto [key, value] : v.get_object()) std::printf("  %-32s %s\n", std::string(key).c_str(), str(value).c_str());
}

// One console command; false to quit.
bool run_command(const Endpoint& ep, const std::string& token, const std::string& line) {
  std::istringstream in(line);
  std::string cmd, arg;
  in >> cmd >> arg;
  if (cmd.empty()) return true;
  if (cmd == "quit" || cmd == "exit") return false;
  if (cmd == "help") return std::fputs(kHelp, stdout), true;
  static const std::map<std::string, void (*)(element)> kViews = {
      {"seqs", show_seqs}, {"pool", show_pool}, {"prefix", show_prefix}, {"queues", show_queues}, {"counters", show_counters}};
  std::string path;
  void (*show)(element) = nullptr;
  if (cmd == "seq") {
    if (arg.empty() || arg.find_first_not_of("0123456789") != std::string::npos)
      return std::printf("usage: seq ID (a sequence id from `seqs`)\n"), true;
    path = "/admin/seqs/" + arg, show = show_seq;
  } else if (auto it = kViews.find(cmd); it != kViews.end()) {
    path = "/admin/" + cmd, show = it->second;
  } else {
    return std::printf("unknown command '%s' (type help)\n", cmd.c_str()), true;
  }
  const auto [status, body] = get(ep, token, path);
  simdjson::dom::parser parser;
  element doc;
  if (parser.parse(body).get(doc)) return std::printf("error: HTTP %d, not JSON\n", status), true;
  if (status != 200) {
    std::string_view message;
    if (doc["error"]["message"].get(message)) message = "unknown error";
    return std::printf("error: HTTP %d: %.*s\n", status, static_cast<int>(message.size()), message.data()), true;
  }
  try {
    show(doc);
  } catch (const simdjson::simdjson_error& e) {
    std::printf("error: unexpected view layout (%s)\n", e.what());
  }
  return true;
}

}  // namespace

int run_admin(int argc, char** argv) {
  Args args(argc, argv, {"help"});
  if (args.answered_help(std::string("usage: pagedserve admin [--url http://127.0.0.1:8000] [--token TOKEN]\n\n") + kHelp))
    return 0;
  args.reject_unknown({"url", "token", "help"});
  const Endpoint ep = parse_url(args.get_or("url", "http://127.0.0.1:8000"));
  const std::string token = args.get_or("token", "");
  const bool interactive = ::isatty(0);
  if (interactive) std::printf("pagedserve admin console for %s (help for commands)\n", args.get_or("url", "http://127.0.0.1:8000").c_str());
  int exit_code = 0;
  for (std::string line;;) {
    if (interactive) std::printf("admin> "), std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    try {
      if (!run_command(ep, token, line)) break;
    } catch (const std::exception& e) {
      std::printf("error: %s\n", e.what());
      exit_code = 1;
    }
    std::fflush(stdout);
  }
  return exit_code;
}

}  // namespace pagedserve::cli
