#include "policies/ridge.h"

#include <cmath>
#include <vector>

namespace banditd::policies {

namespace {
constexpr int kRidgeSnapshotVersion = 1;
}  // namespace
namespace {

Eigen::Map<const Eigen::VectorXd> AsVector(std::span<const double> x) {
  return {x.data(), static_cast<Eigen::Index>(x.size())};
}

std::vector<double> Flatten(const Eigen::MatrixXd& m) { return {m.data(), m.data() + m.size()}; }

}  // namespace

RidgeArm::RidgeArm(size_t dim, double lambda, bool keep_cholesky)
    : keep_cholesky_(keep_cholesky),
      a_inv_(Eigen::MatrixXd::Identity(dim, dim) / lambda),
      b_(Eigen::VectorXd::Zero(dim)),
      theta_(Eigen::VectorXd::Zero(dim)),
      scratch_(dim),
      work_(dim) {
  if (keep_cholesky_) chol_ = Eigen::MatrixXd::Identity(dim, dim) * std::sqrt(lambda);
}

double RidgeArm::Predict(std::span<const double> x) const { return theta_.dot(AsVector(x)); }

double RidgeArm::Variance(std::span<const double> x) const {
  if (keep_cholesky_) {
    scratch_ = chol_.triangularView<Eigen::Lower>().solve(AsVector(x));
    return scratch_.squaredNorm();
  }
  scratch_.noalias() = a_inv_ * AsVector(x);
  return std::max(0.0, scratch_.dot(AsVector(x)));
}

void RidgeArm::Update(std::span<const double> x_span, double r) {
  const auto x = AsVector(x_span);
  // Sherman–Morrison on A^-1 (kept symmetric: both triangles are written).
  scratch_.noalias() = a_inv_ * x;
  const double denom = 1.0 + x.dot(scratch_);
  a_inv_.noalias() -= (scratch_ / denom) * scratch_.transpose();
  b_ += r * x;
  theta_.noalias() = a_inv_ * b_;
  n_ += 1.0;
  reward_sum_ += r;
  if (!keep_cholesky_) return;
  // Rank-one Cholesky update L L^T + x x^T by Givens-like rotations.
  Eigen::VectorXd& w = work_;
  w = x;
  const Eigen::Index d = w.size();
  for (Eigen::Index k = 0; k < d; ++k) {
    const double lkk = chol_(k, k);
    const double rk = std::hypot(lkk, w(k));
    const double c = rk / lkk;
    const double s = w(k) / lkk;
    chol_(k, k) = rk;
    for (Eigen::Index i = k + 1; i < d; ++i) {
      chol_(i, k) = (chol_(i, k) + s * w(i)) / c;
      w(i) = c * w(i) - s * chol_(i, k);
    }
  }
}

void RidgeArm::Save(const std::string& prefix, SnapshotState& state) const {
  state.arrays[prefix + "stats"] = {n_, reward_sum_};
  state.arrays[prefix + "a_inv"] = Flatten(a_inv_);
  state.arrays[prefix + "b"] = Flatten(b_);
  state.arrays[prefix + "theta"] = Flatten(theta_);
  if (keep_cholesky_) state.arrays[prefix + "chol"] = Flatten(chol_);
}

Status RidgeArm::Load(const std::string& prefix, const SnapshotState& state) {
  const size_t d = dim();
  BANDITD_ASSIGN_OR_RETURN(auto stats, TakeArray(state, prefix + "stats", 2));
  BANDITD_ASSIGN_OR_RETURN(auto a_inv, TakeArray(state, prefix + "a_inv", d * d));
  BANDITD_ASSIGN_OR_RETURN(auto b, TakeArray(state, prefix + "b", d));
  BANDITD_ASSIGN_OR_RETURN(auto theta, TakeArray(state, prefix + "theta", d));
  if ((stats)[0] < 0.0) return Status(Code::kCorruption, "snapshot: negative reward count");
  const auto dd = static_cast<Eigen::Index>(d);
  Eigen::MatrixXd chol;
  if (keep_cholesky_) {
    BANDITD_ASSIGN_OR_RETURN(auto l, TakeArray(state, prefix + "chol", d * d));
    chol = Eigen::Map<const Eigen::MatrixXd>(l.data(), dd, dd);
    for (Eigen::Index k = 0; k < dd; ++k) {
      if (!(chol(k, k) > 0.0)) {
        return Status(Code::kCorruption, "snapshot: Cholesky factor must have a positive diagonal");
      }
    }
  }
  n_ = (stats)[0];
  reward_sum_ = (stats)[1];
  a_inv_ = Eigen::Map<const Eigen::MatrixXd>(a_inv.data(), dd, dd);
  b_ = Eigen::Map<const Eigen::VectorXd>(b.data(), dd);
  theta_ = Eigen::Map<const Eigen::VectorXd>(theta.data(), dd);
  if (keep_cholesky_) chol_ = std::move(chol);
  return Status::Ok();
}

Status CheckContextDim(const PolicySpec& spec) {
  if (spec.context_dim == 0) {
    return InvalidArgument(
        "needs the request context length: set context_dim >= 1 (it is a contextual policy)");
  }
  if (spec.context_dim > 4096) {
    return InvalidArgument("context_dim must be <= 4096 (got " + std::to_string(spec.context_dim) +
                           ")");
  }
  return Status::Ok();
}

Result<double> ParseLambda(const PolicySpec& spec) {
  BANDITD_ASSIGN_OR_RETURN(auto lambda, spec.params.GetDouble("lambda", 1.0));
  if (!std::isfinite(lambda) || lambda <= 0.0) {
    return InvalidArgument("lambda must be finite and > 0 (got " + std::to_string(lambda) + ")");
  }
  return lambda;
}

void LinearEstimates(const std::vector<RidgeArm>& arms, std::span<ArmEstimate> out) {
  for (size_t i = 0; i < arms.size(); ++i) {
    const double n = arms[i].n();
    const double sum = arms[i].reward_sum();
    out[i] = ArmEstimate{n, sum, n > 0 ? sum / n : 0.0};
  }
}

SnapshotState SaveArms(const std::vector<RidgeArm>& arms) {
  SnapshotState s;
  s.arrays["dim"] = {static_cast<double>(arms.empty() ? 0 : arms[0].dim())};
  for (size_t i = 0; i < arms.size(); ++i) arms[i].Save("arm" + std::to_string(i) + ".", s);
  return s;
}

Status LoadArms(const SnapshotState& state, std::vector<RidgeArm>& arms) {
  const size_t d = arms.empty() ? 0 : arms[0].dim();
  BANDITD_ASSIGN_OR_RETURN(auto dim, TakeArray(state, "dim", 1));
  if ((dim)[0] != static_cast<double>(d)) {
    return InvalidArgument("snapshot is for context_dim " + std::to_string((dim)[0]) +
                           ", this policy has " + std::to_string(d));
  }
  std::vector<RidgeArm> loaded = arms;
  for (size_t i = 0; i < loaded.size(); ++i) {
    BANDITD_RETURN_IF_ERROR(loaded[i].Load("arm" + std::to_string(i) + ".", state));
  }
  arms = std::move(loaded);
  return Status::Ok();
}

std::string RidgePolicy::Snapshot() const {
  return EncodeSnapshot(name(), kRidgeSnapshotVersion, num_arms(), SaveArms(arms_));
}

Status RidgePolicy::Restore(std::string_view bytes) {
  BANDITD_ASSIGN_OR_RETURN(auto s,
                           DecodeSnapshot(bytes, name(), kRidgeSnapshotVersion, num_arms()));
  return LoadArms(s, arms_);
}

}  // namespace banditd::policies
