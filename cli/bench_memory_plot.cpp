#include "cli/bench_memory_plot.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace pagedserve::cli {

namespace fs = std::filesystem;

std::map<std::string, std::vector<std::pair<double, double>>> latency_curves(
    std::vector<sim::TraceRequest> trace, const sim::SimConfig& config, std::uint64_t seed, double paged_max_rate) {
  std::map<std::string, std::vector<std::pair<double, double>>> curves;
  const sim::KvSystem systems[] = {sim::KvSystem::paged, sim::KvSystem::orca_max, sim::KvSystem::orca_pow2,
                                      sim::KvSystem::orca_oracle};
  for (int i = 1; i <= 15; ++i) {
    const double rate = paged_max_rate * 0.1 * i;
    sim::assign_poisson_arrivals(trace, rate, seed);
    for (auto s : systems) {
      double lat = sim::simulate_kv(trace, s, config).normalized_latency;
      curves[sim::kv_system_name(s)].emplace_back(rate, lat);
    }
  }
  return curves;
}

namespace {

void run_gnuplot(const fs::path& script) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0)
    throw std::runtime_error("--plot needs gnuplot (Debian package gnuplot-nox)");
  const std::string cmd = "gnuplot " + script.string() + " 2>" + (script.string() + ".log");
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("gnuplot failed; see " + script.string() + ".log");
}

const char* kTerminal = "set terminal pngcairo size 800,480 font 'sans,11' noenhanced\n";

}  // namespace

void write_memory_plots(const std::string& dir_text, const MemoryPlotData& d) {
  fs::path dir(dir_text);
  fs::create_directories(dir);
  {
    std::ofstream data(dir / "utilization.dat");
    for (const auto& [name, u] : d.utilization) data << name << " " << 100 * u << "\n";
    std::ofstream gp(dir / "utilization.gp");
    gp << kTerminal << "set output '" << (dir / "utilization.png").string() << "'\n"
       << "set title 'KV memory holding real tokens'\nset ylabel '% of reserved slots'\nset yrange [0:105]\n"
       << "set style fill solid 0.7\nset boxwidth 0.6\nunset key\n"
       << "plot '" << (dir / "utilization.dat").string() << "' using 0:2:xtic(1) with boxes lc rgb '#3070b0', "
       << "'' using 0:($2+3):(sprintf('%.1f%%',$2)) with labels\n";
  }
  {
    std::ofstream gp(dir / "running.gp");
    gp << kTerminal << "set output '" << (dir / "running.png").string() << "'\n"
       << "set title 'Requests running at once'\nset xlabel 'time (s)'\nset ylabel 'running requests'\nset key top right\nplot ";
    bool first = true;
    for (const auto& [name, series] : d.running_series) {
      const auto file = dir / ("running_" + name + ".dat");
      std::ofstream data(file);
      for (std::size_t i = 0; i < series.size(); ++i) data << i * d.series_step_seconds << " " << series[i] << "\n";
      gp << (first ? "" : ", ") << "'" << file.string() << "' with lines lw 2 title '" << name << "'";
      first = false;
    }
    gp << "\n";
  }
  if (!d.latency_curves.empty()) {
    std::ofstream gp(dir / "latency.gp");
    gp << kTerminal << "set output '" << (dir / "latency.png").string() << "'\n"
       << "set title 'Normalized latency vs request rate'\nset xlabel 'requests/s'\nset ylabel 's/token'\n"
       << "set logscale y\nset key top left\nplot ";
    bool first = true;
    for (const auto& [name, curve] : d.latency_curves) {
      const auto file = dir / ("latency_" + name + ".dat");
      std::ofstream data(file);
      for (const auto& [rate, lat] : curve) data << rate << " " << lat << "\n";
      gp << (first ? "" : ", ") << "'" << file.string() << "' with linespoints lw 2 title '" << name << "'";
      first = false;
    }
    gp << "\n";
  }
  {
    std::ofstream data(dir / "sharing.dat");
    for (const auto& [k, p] : d.parallel_saving) data << k << " " << p << " " << d.beam_saving.at(k) << "\n";
    std::ofstream gp(dir / "sharing.gp");
    gp << kTerminal << "set output '" << (dir / "sharing.png").string() << "'\n"
       << "set title 'KV memory saved by sharing'\nset xlabel 'samples (n) / beam width (k)'\nset ylabel '% saved'\n"
       << "set style data histograms\nset style fill solid 0.7\nset yrange [0:*]\nset key top left\n"
       << "plot '" << (dir / "sharing.dat").string() << "' using 2:xtic(1) title 'parallel sampling', '' using 3 title 'beam search'\n";
  }
  for (const char* name : {"utilization", "running", "latency", "sharing"})
    if (fs::exists(dir / (std::string(name) + ".gp"))) run_gnuplot(dir / (std::string(name) + ".gp"));
}

}  // namespace pagedserve::cli
