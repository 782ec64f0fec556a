#include "sim/ope_validate.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <thread>

#include "banditd/policy.h"
#include "sim/environment.h"
#include "sim/ope.h"
#include "sim/ope_policy.h"
#include "src/state/decision_log.h"

namespace banditd::sim::ope {
namespace {

constexpr const char* kLoggers[] = {"uniform", "thompson"};
constexpr const char* kExperiment = "ope";

// One replication's estimates (ips, snips, dr) and ESS.
struct RepOutcome {
  Estimate est[3];
  double ess = 0.0;
};

// Logs `options.decisions` decisions of `logger` into `dir` through the
// daemon's DecisionLog writer: D lines (propensity, context) and R lines.
Status WriteLog(const Scenario& s, size_t logger, uint64_t rep, const ValidateOptions& options,
                const std::string& dir) {
  auto log = state::DecisionLog::Open(state::Env::Posix(), dir);
  if (!log.ok()) return log.status();
  const size_t k = s.num_arms();
  Environment env(s, rep);
  Rng rng = Rng::ForStream(options.seed ^ 0x0FFB011C7ull, 2 * rep + logger);
  std::vector<double> alloc(k, 1.0 / static_cast<double>(k));
  std::unique_ptr<Policy> thompson;
  if (logger == 1) {
    PolicySpec spec;
    spec.name = "thompson";
    spec.num_arms = k;
    spec.limits.champion = s.champion;
    spec.limits.champion_floor = options.thompson_floor;
    spec.limits.challenger_ceiling = 1.0 - options.thompson_floor * static_cast<double>(k - 1);
    auto made = MakePolicy(spec);
    if (!made.ok()) return made.status();
    thompson = std::move(made).value();
  }
  std::string id;
  for (uint64_t t = 1; t <= options.decisions; ++t) {
    env.BeginStep(t);
    // As the daemon routes: the arm is drawn from the current weights, so the
    // logged propensity is exact.
    if (thompson && (t - 1) % options.refresh_every == 0) thompson->Allocation(rng, {}, alloc);
    const size_t arm = SampleDiscrete(rng.Uniform(), alloc);
    const double reward = env.Reward(arm);
    id = "r" + std::to_string(rep) + "-" + std::to_string(t);
    const auto wall = static_cast<int64_t>(t);
    (*log)->Decision({.wall_ns = wall,
                      .exp = kExperiment,
                      .epoch = 1,
                      .decision = id,
                      .arm = s.arms[arm].name,
                      .propensity = alloc[arm],
                      .forced = false,
                      .unit_hash = 0,
                      .context = env.context(),
                      .output = {}});
    (*log)->Reward(wall, kExperiment, id, s.arms[arm].name, reward);
    if (thompson) thompson->Update(arm, reward, {});
  }
  Status flushed = (*log)->Flush();
  if (!flushed.ok()) return flushed;
  if ((*log)->write_errors() > 0) return Status(Code::kIoError, "decision log write failed");
  return Status::Ok();
}

Result<RepOutcome> RunOne(const Scenario& s, const std::string& target_yaml, size_t logger,
                          uint64_t rep, const ValidateOptions& options) {
  const std::string dir = options.work_dir + "/" + kLoggers[logger] + "-" + std::to_string(rep);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status(Code::kIoError, "cannot create '" + dir + "': " + ec.message());
  Status written = WriteLog(s, logger, rep, options, dir);
  Result<RepOutcome> out = Status(Code::kInternal, "not run");
  if (written.ok()) {
    auto data = LoadDecisionLog(state::Env::Posix(), dir, {});
    auto target = ParseTargetPolicy(target_yaml, "target");
    if (!data.ok()) {
      out = data.status();
    } else if (!target.ok()) {
      out = target.status();
    } else {
      auto r = Evaluate(*data, *target);
      if (!r.ok()) {
        out = r.status();
      } else {
        RepOutcome o;
        for (int e = 0; e < 3; ++e) o.est[e] = r->estimates[static_cast<size_t>(e)];
        o.ess = r->ess;
        out = o;
      }
    }
  } else {
    out = written;
  }
  std::filesystem::remove_all(dir, ec);
  return out;
}

}  // namespace

Result<ValidateResult> RunOpeValidation(const Scenario& scenario, const std::string& target_yaml,
                                        const ValidateOptions& options) {
  if (!scenario.contextual()) return InvalidArgument("ope-validate needs a contextual scenario");
  if (options.reps == 0 || options.decisions < 2)
    return InvalidArgument("ope-validate needs reps >= 1 and decisions >= 2");
  if (!(options.thompson_floor > 0.0 &&
        options.thompson_floor * static_cast<double>(scenario.num_arms()) <= 1.0)) {
    return InvalidArgument("the Thompson logger's floor must be in (0, 1 / arms]");
  }
  auto target = ParseTargetPolicy(target_yaml, "target");
  if (!target.ok()) return target.status();
  if (target->fit_fraction() > 0.0)
    return InvalidArgument("ope-validate needs a frozen target (no fit_fraction)");
  if (target->arms().size() != scenario.num_arms())
    return InvalidArgument("the target policy's arms must be the scenario's");
  std::vector<size_t> to_scenario(scenario.num_arms());
  for (size_t a = 0; a < scenario.num_arms(); ++a) {
    bool found = false;
    for (size_t b = 0; b < scenario.num_arms(); ++b) {
      if (scenario.arms[b].name == target->arms()[a]) {
        to_scenario[a] = b;
        found = true;
      }
    }
    if (!found)
      return InvalidArgument("the target's arm '" + target->arms()[a] + "' is not in the scenario");
  }
  if (target->context_dim() != 0 && target->context_dim() != scenario.context.dim()) {
    return InvalidArgument("the target takes contexts of length " +
                           std::to_string(target->context_dim()) + "; the scenario's are " +
                           std::to_string(scenario.context.dim()));
  }

  ValidateResult result;
  result.target = target->description();
  // The truth by Monte Carlo over fresh contexts (a stream no replication uses).
  {
    Rng rng = Rng::ForStream(options.seed, 0xFFFFFFFFull);
    std::vector<double> x(scenario.context.dim()), p(scenario.num_arms());
    double sum = 0, sum2 = 0;
    for (uint64_t m = 0; m < options.truth_draws; ++m) {
      DrawContext(scenario.context, rng, x);
      target->Probabilities(x, p);
      double v = 0;
      for (size_t a = 0; a < p.size(); ++a)
        v += p[a] * ContextualMean(scenario.context, to_scenario[a], x);
      sum += v;
      sum2 += v * v;
    }
    const double m = static_cast<double>(options.truth_draws);
    result.truth = sum / m;
    result.truth_se = std::sqrt(std::max(0.0, sum2 / m - result.truth * result.truth) / m);
  }

  Scenario s = scenario;
  s.seed = options.seed;
  const uint64_t items = 2 * options.reps;
  std::vector<Result<RepOutcome>> out(items, Status(Code::kInternal, "not run"));
  std::atomic<uint64_t> next{0};
  auto worker = [&] {
    for (uint64_t i = next.fetch_add(1); i < items; i = next.fetch_add(1)) {
      out[i] = RunOne(s, target_yaml, i % 2, i / 2, options);
    }
  };
  unsigned threads = options.threads ? options.threads : std::thread::hardware_concurrency();
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(items)));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();

  for (size_t logger = 0; logger < 2; ++logger) {
    for (int e = 0; e < 3; ++e) {
      CoverageRow row;
      row.logger = kLoggers[logger];
      double se2 = 0;
      for (uint64_t rep = 0; rep < options.reps; ++rep) {
        const auto& r = out[2 * rep + logger];
        if (!r.ok()) return r.status();
        const Estimate& est = r->est[e];
        row.estimator = est.name;
        ++row.reps;
        row.covered += est.lo <= result.truth && result.truth <= est.hi;
        row.mean_estimate += est.value;
        se2 += (est.value - result.truth) * (est.value - result.truth);
        row.mean_width += est.hi - est.lo;
        row.mean_ess += r->ess;
      }
      const double n = static_cast<double>(row.reps);
      row.mean_estimate /= n;
      row.rmse = std::sqrt(se2 / n);
      row.mean_width /= n;
      row.mean_ess /= n;
      result.rows.push_back(row);
    }
  }
  return result;
}

std::string FormatValidation(const ValidateResult& r, const ValidateOptions& options) {
  std::ostringstream o;
  char line[512];
  std::snprintf(line, sizeof line,
                "target: %s\ntrue value %.5f (Monte Carlo over %llu contexts, se %.1e)\n"
                "%llu replications per logging policy, %llu logged decisions each\n\n",
                r.target.c_str(), r.truth, static_cast<unsigned long long>(options.truth_draws),
                r.truth_se, static_cast<unsigned long long>(options.reps),
                static_cast<unsigned long long>(options.decisions));
  o << line;
  o << "  logger     estimator  coverage (covered/reps)   mean est.      bias      rmse   "
       "CI width   mean ESS\n";
  for (const auto& row : r.rows) {
    std::snprintf(line, sizeof line,
                  "  %-10s %-9s  %7.1f%% (%4llu/%-4llu)      %9.5f %9.5f %9.5f  %9.5f %10.1f\n",
                  row.logger.c_str(), row.estimator.c_str(),
                  100.0 * static_cast<double>(row.covered) / static_cast<double>(row.reps),
                  static_cast<unsigned long long>(row.covered),
                  static_cast<unsigned long long>(row.reps), row.mean_estimate,
                  row.mean_estimate - r.truth, row.rmse, row.mean_width, row.mean_ess);
    o << line;
  }
  return o.str();
}

}  // namespace banditd::sim::ope
