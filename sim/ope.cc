#include "sim/ope.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <Eigen/Dense>

namespace banditd::sim::ope {
namespace {

constexpr double kZ95 = 1.959963984540054;  // standard normal 97.5% quantile
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string_view::npos ? line.npos : tab - start));
    if (tab == std::string_view::npos) return out;
    start = tab + 1;
  }
}

// A D line with 10 fields (no propensity column) or a propensity of "-" or "":
// the log was not written with propensities.
Status CheckPropensityColumn(std::string_view text, const std::string& name) {
  size_t line_no = 0, start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    ++line_no;
    if (line.size() > 2 && line[0] == 'D' && line[1] == '\t') {
      const auto f = Fields(line);
      if (f.size() == 10 || (f.size() == 11 && (f[6] == "-" || f[6].empty()))) {
        return InvalidArgument(name + " line " + std::to_string(line_no) +
                               ": decision without a propensity: the log carries no "
                               "propensities, which off-policy evaluation needs");
      }
    }
    start = end + 1;
  }
  return Status::Ok();
}

// Sample standard error of the mean of xs.
double StdErr(const std::vector<double>& xs, double mean) {
  const size_t n = xs.size();
  if (n < 2) return kNaN;
  double ss = 0.0;
  for (double x : xs) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(n - 1) / static_cast<double>(n));
}

Estimate MakeEstimate(std::string name, double value, double se) {
  return Estimate{std::move(name), value, se, value - kZ95 * se, value + kZ95 * se};
}

}  // namespace

Result<LogData> JoinDecisionLog(const std::vector<state::LogRow>& rows,
                                const JoinOptions& options) {
  std::vector<std::string> experiments;
  for (const auto& r : rows) {
    if (r.kind == 'D' &&
        std::find(experiments.begin(), experiments.end(), r.exp) == experiments.end()) {
      experiments.push_back(r.exp);
    }
  }
  if (experiments.empty())
    return InvalidArgument("the log has no decisions (D lines), so no propensities");
  LogData data;
  if (!options.experiment.empty()) {
    if (std::find(experiments.begin(), experiments.end(), options.experiment) ==
        experiments.end()) {
      return InvalidArgument("the log has no decisions of experiment '" + options.experiment + "'");
    }
    data.experiment = options.experiment;
  } else if (experiments.size() > 1) {
    std::string names;
    for (const auto& e : experiments) names += (names.empty() ? "" : ", ") + e;
    return InvalidArgument("the log holds several experiments (" + names +
                           "): choose one with --experiment");
  } else {
    data.experiment = experiments.front();
  }

  // Decisions in log order; rewards joined by decision id.
  std::unordered_map<std::string, size_t> index;
  std::unordered_set<std::string> forced;
  std::vector<const state::LogRow*> decisions;
  for (const auto& r : rows) {
    if (r.kind != 'D' || r.exp != data.experiment) continue;
    ++data.decisions;
    if (!std::isfinite(r.propensity)) {
      return InvalidArgument("decision '" + r.decision + "': propensity is not a number");
    }
    if (!(r.propensity > 0.0 && r.propensity <= 1.0)) {
      std::ostringstream p;
      p << r.propensity;
      return InvalidArgument("decision '" + r.decision + "': propensity must be in (0, 1] (got " +
                             p.str() + ")");
    }
    if (r.forced) {
      ++data.forced;
      forced.insert(r.decision);
      continue;
    }
    index.emplace(r.decision, decisions.size());
    decisions.push_back(&r);
  }
  if (decisions.empty()) {
    return InvalidArgument("no randomised decisions: all " + std::to_string(data.decisions) +
                           " decisions of '" + data.experiment + "' were forced");
  }
  std::vector<int> seen(decisions.size(), 0);
  std::vector<double> reward(decisions.size(), 0.0);
  for (const auto& r : rows) {
    if (r.kind != 'R' || r.exp != data.experiment) continue;
    auto it = index.find(r.decision);
    if (it == index.end()) {
      if (!forced.contains(r.decision)) ++data.orphan_rewards;  // decision not in these files
      continue;
    }
    if (seen[it->second]++) {
      ++data.duplicate_rewards;
      continue;
    }
    reward[it->second] = r.value;
  }
  for (size_t i = 0; i < decisions.size(); ++i) {
    if (!seen[i]) {
      ++data.unrewarded;
      if (!options.unrewarded_as_zero) continue;
    }
    if (!std::isfinite(reward[i])) {
      return InvalidArgument("decision '" + decisions[i]->decision + "': reward is not finite");
    }
    const state::LogRow& d = *decisions[i];
    data.samples.push_back(LoggedSample{d.decision, d.arm, d.propensity, reward[i], d.context});
  }
  if (data.samples.empty()) {
    return InvalidArgument("no rewarded decisions: none of the " +
                           std::to_string(decisions.size()) + " randomised decisions of '" +
                           data.experiment +
                           "' has a reward (R line) in the log (--unrewarded zero counts them "
                           "as reward 0)");
  }
  return data;
}

Result<LogData> LoadDecisionLog(state::Env& env, const std::string& path,
                                const JoinOptions& options) {
  size_t files = 0;
  auto rows = state::ReadDecisionLogPath(env, path, CheckPropensityColumn, &files);
  if (!rows.ok()) return rows.status();
  auto data = JoinDecisionLog(*rows, options);
  if (data.ok()) data->files = files;
  return data;
}

Result<OpeResult> Evaluate(const LogData& data, TargetPolicy& policy, const EvalOptions& options) {
  const size_t k = policy.arms().size();
  const size_t n_all = data.samples.size();
  std::vector<size_t> arm(n_all);
  for (size_t i = 0; i < n_all; ++i) {
    const LoggedSample& s = data.samples[i];
    const auto it = std::find(policy.arms().begin(), policy.arms().end(), s.arm);
    if (it == policy.arms().end()) {
      return InvalidArgument("the log's arm '" + s.arm + "' (decision '" + s.decision +
                             "') is not in the policy's 'arms'");
    }
    arm[i] = static_cast<size_t>(it - policy.arms().begin());
    for (double v : s.context) {
      if (!std::isfinite(v))
        return InvalidArgument("decision '" + s.decision + "': its context is not finite");
    }
    if (policy.context_dim() > 0 && s.context.size() != policy.context_dim()) {
      return InvalidArgument("decision '" + s.decision + "' has a context of length " +
                             std::to_string(s.context.size()) + "; the policy takes " +
                             std::to_string(policy.context_dim()));
    }
  }
  OpeResult out;
  out.policy = policy.description();
  size_t first = 0;
  if (policy.fit_fraction() > 0.0) {
    first = static_cast<size_t>(std::floor(policy.fit_fraction() * static_cast<double>(n_all)));
    for (size_t i = 0; i < first; ++i) {
      if (!policy.Accepts(data.samples[i].reward)) {
        return InvalidArgument("decision '" + data.samples[i].decision +
                               "': the policy cannot learn from its reward");
      }
      policy.Learn(arm[i], data.samples[i].reward, data.samples[i].context);
    }
    out.fitted = first;
  }
  const size_t n = n_all - first;
  if (n == 0) return InvalidArgument("no rewarded decisions left to evaluate after the fit");
  out.n = n;

  // The target's probabilities and the importance weights.
  std::vector<double> pi(n * k);
  std::vector<double> w(n), wr(n);
  double sum_w = 0, sum_w2 = 0, sum_r = 0;
  for (size_t j = 0; j < n; ++j) {
    const LoggedSample& s = data.samples[first + j];
    std::span<double> p(pi.data() + j * k, k);
    policy.Probabilities(s.context, p);
    w[j] = p[arm[first + j]] / s.propensity;
    wr[j] = w[j] * s.reward;
    sum_w += w[j];
    sum_w2 += w[j] * w[j];
    sum_r += s.reward;
    out.max_weight = std::max(out.max_weight, w[j]);
  }
  const double nd = static_cast<double>(n);
  out.ess = sum_w2 > 0.0 ? sum_w * sum_w / sum_w2 : 0.0;
  out.mean_weight = sum_w / nd;
  out.logged_value = sum_r / nd;

  // IPS (Horvitz & Thompson 1952): mean of w r; se from the sample variance.
  double ips = 0;
  for (double v : wr) ips += v;
  ips /= nd;
  out.estimates.push_back(MakeEstimate("ips", ips, StdErr(wr, ips)));

  // Self-normalised IPS (Swaminathan & Joachims 2015): sum w r / sum w; se by
  // the delta method, sqrt(sum w^2 (r - V)^2) / sum w.
  if (sum_w > 0.0) {
    const double v = [&] {
      double s = 0;
      for (double x : wr) s += x;
      return s / sum_w;
    }();
    double ss = 0;
    for (size_t j = 0; j < n; ++j) {
      const double e = data.samples[first + j].reward - v;
      ss += w[j] * w[j] * e * e;
    }
    out.estimates.push_back(MakeEstimate("snips", v, n > 1 ? std::sqrt(ss) / sum_w : kNaN));
  } else {
    out.estimates.push_back(MakeEstimate("snips", kNaN, kNaN));
  }

  // Doubly robust (Dudík, Langford & Li 2011): q(x, pi) + w (r - q(x, a)), with
  // q a per-arm ridge regression of the reward on (1, context), cross-fitted
  // over `folds` interleaved folds (each sample's q is fitted without it; the
  // samples the target learned from train every fold) and clamped to the
  // observed reward range.
  size_t dim = 1;
  {
    const size_t len = data.samples.front().context.size();
    bool same = true;
    for (const auto& s : data.samples) same = same && s.context.size() == len;
    if (same) dim += len;
  }
  double r_lo = std::numeric_limits<double>::infinity(), r_hi = -r_lo;
  for (const auto& s : data.samples) {
    r_lo = std::min(r_lo, s.reward);
    r_hi = std::max(r_hi, s.reward);
  }
  auto features = [&](size_t i, Eigen::VectorXd& z) {
    z(0) = 1.0;
    for (size_t c = 1; c < dim; ++c) z(c) = data.samples[i].context[c - 1];
  };
  const int folds = std::max(1, options.folds);
  std::vector<double> q(n * k, 0.0);
  Eigen::VectorXd z(dim);
  for (int f = 0; f < folds; ++f) {
    std::vector<Eigen::MatrixXd> a(k, Eigen::MatrixXd::Identity(dim, dim) * options.ridge_lambda);
    std::vector<Eigen::VectorXd> b(k, Eigen::VectorXd::Zero(dim));
    double train_sum = 0;
    size_t train_n = 0;
    std::vector<size_t> arm_n(k, 0);
    for (size_t i = 0; i < n_all; ++i) {
      const bool held_out = i >= first && folds > 1 && static_cast<int>((i - first) % folds) == f;
      if (held_out) continue;
      features(i, z);
      a[arm[i]].selfadjointView<Eigen::Lower>().rankUpdate(z);
      b[arm[i]] += data.samples[i].reward * z;
      ++arm_n[arm[i]];
      train_sum += data.samples[i].reward;
      ++train_n;
    }
    const double fallback = train_n ? train_sum / static_cast<double>(train_n) : 0.0;
    std::vector<Eigen::VectorXd> theta(k);
    for (size_t c = 0; c < k; ++c) {
      if (arm_n[c] > 0) theta[c] = a[c].selfadjointView<Eigen::Lower>().ldlt().solve(b[c]);
    }
    for (size_t j = 0; j < n; ++j) {
      if (folds > 1 && static_cast<int>(j % folds) != f) continue;
      features(first + j, z);
      for (size_t c = 0; c < k; ++c) {
        const double pred = arm_n[c] > 0 ? theta[c].dot(z) : fallback;
        q[j * k + c] = std::clamp(pred, r_lo, r_hi);
      }
    }
  }
  std::vector<double> dr(n);
  double dr_mean = 0;
  for (size_t j = 0; j < n; ++j) {
    double direct = 0;
    for (size_t c = 0; c < k; ++c) direct += pi[j * k + c] * q[j * k + c];
    const double resid = data.samples[first + j].reward - q[j * k + arm[first + j]];
    dr[j] = direct + w[j] * resid;
    dr_mean += dr[j];
  }
  dr_mean /= nd;
  out.estimates.push_back(MakeEstimate("dr", dr_mean, StdErr(dr, dr_mean)));
  return out;
}

std::string FormatOpe(const LogData& data, const OpeResult& r) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(5);
  o << "experiment " << data.experiment << ": " << data.decisions << " decisions in " << data.files
    << " file" << (data.files == 1 ? "" : "s") << "; " << data.forced << " forced and "
    << data.unrewarded << " unrewarded left out; " << data.duplicate_rewards << " duplicate and "
    << data.orphan_rewards << " unmatched rewards ignored\n";
  o << "target: " << r.policy << "\n";
  if (r.fitted) o << "fitted on " << r.fitted << " samples; ";
  o << "evaluated on " << r.n << " samples; logged policy's mean reward " << r.logged_value << "\n";
  o.precision(1);
  o << "effective sample size " << r.ess << " (" << (100.0 * r.ess / static_cast<double>(r.n))
    << "%); ";
  o.precision(4);
  o << "mean weight " << r.mean_weight << ", max weight " << r.max_weight << "\n\n";
  o.precision(5);
  o << "  estimator      value    std err                95% CI\n";
  for (const auto& e : r.estimates) {
    char line[128];
    std::snprintf(line, sizeof line, "  %-9s %10.5f %10.5f  [%9.5f, %9.5f]\n", e.name.c_str(),
                  e.value, e.se, e.lo, e.hi);
    o << line;
  }
  o << "\n95% CIs: normal approximation; IPS and DR from the sample variance of their terms, "
       "SNIPS by the delta method. DR's reward model: per-arm ridge regression on the context, "
       "2-fold cross-fitted.\n";
  return o.str();
}

std::string OpeJson(const LogData& data, const OpeResult& r) {
  auto num = [](double v) {
    if (!std::isfinite(v)) return std::string("null");
    std::ostringstream o;
    o.precision(10);
    o << v;
    return o.str();
  };
  auto str = [](const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  };
  std::ostringstream o;
  o << "{\"experiment\": " << str(data.experiment) << ", \"files\": " << data.files
    << ", \"decisions\": " << data.decisions << ", \"forced\": " << data.forced
    << ", \"unrewarded\": " << data.unrewarded
    << ", \"duplicate_rewards\": " << data.duplicate_rewards
    << ", \"orphan_rewards\": " << data.orphan_rewards << ", \"policy\": " << str(r.policy)
    << ", \"fitted\": " << r.fitted << ", \"n\": " << r.n << ", \"ess\": " << num(r.ess)
    << ", \"mean_weight\": " << num(r.mean_weight) << ", \"max_weight\": " << num(r.max_weight)
    << ", \"logged_value\": " << num(r.logged_value) << ", \"estimates\": {";
  for (size_t i = 0; i < r.estimates.size(); ++i) {
    const Estimate& e = r.estimates[i];
    o << (i ? ", " : "") << str(e.name) << ": {\"value\": " << num(e.value)
      << ", \"se\": " << num(e.se) << ", \"lo\": " << num(e.lo) << ", \"hi\": " << num(e.hi) << "}";
  }
  o << "}}\n";
  return o.str();
}

}  // namespace banditd::sim::ope
