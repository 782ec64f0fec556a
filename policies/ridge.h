// Per-arm ridge regression state for the linear contextual policies
// (policies/linucb.cc, policies/lin_thompson.cc), updated in O(d^2) per
// reward with no matrix inversion:
//   A = lambda I + sum x x^T,  b = sum r x,  theta = A^-1 b.
// A^-1 is kept by the Sherman–Morrison formula
//   (A + x x^T)^-1 = A^-1 - (A^-1 x)(A^-1 x)^T / (1 + x^T A^-1 x),
// and, when asked for, the lower Cholesky factor L of A (A = L L^T) by the
// rank-one update of Golub & Van Loan (Matrix Computations, 4th ed., §6.5.4),
// which stays positive definite in floating point where a downdate of A^-1's
// factor would not.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "banditd/policy.h"
#include "banditd/status.h"
#include "policies/snapshot.h"

namespace banditd::policies {

// Not thread-safe, even for const calls: Predict/Variance reuse a scratch
// vector (the Policy contract already has one owner per policy).
class RidgeArm {
 public:
  // REQUIRES: dim >= 1, lambda > 0.
  RidgeArm(size_t dim, double lambda, bool keep_cholesky);

  size_t dim() const { return static_cast<size_t>(b_.size()); }
  double n() const { return n_; }
  double reward_sum() const { return reward_sum_; }
  const Eigen::MatrixXd& a_inv() const { return a_inv_; }
  const Eigen::VectorXd& theta() const { return theta_; }
  // Lower-triangular; only meaningful when built with keep_cholesky.
  const Eigen::MatrixXd& chol() const { return chol_; }

  // theta^T x. REQUIRES: x.size() == dim().
  double Predict(std::span<const double> x) const;
  // x^T A^-1 x (>= 0): from the Cholesky factor when kept (||L^-1 x||^2),
  // else from A^-1.
  double Variance(std::span<const double> x) const;

  // Adds one observation (x, r). REQUIRES: x.size() == dim(), x and r finite
  // (a non-finite value would poison A^-1 for good).
  void Update(std::span<const double> x, double r);

  // Writes this arm's state under `prefix` (e.g. "arm0.") into `state`.
  void Save(const std::string& prefix, SnapshotState& state) const;
  // Reads it back; refuses wrong lengths or non-finite values without
  // changing *this (the caller loads into a copy and swaps on success).
  Status Load(const std::string& prefix, const SnapshotState& state);

 private:
  bool keep_cholesky_;
  double n_ = 0;
  double reward_sum_ = 0;
  Eigen::MatrixXd a_inv_;
  Eigen::VectorXd b_;
  Eigen::VectorXd theta_;
  Eigen::MatrixXd chol_;
  mutable Eigen::VectorXd scratch_;  // A^-1 x or L^-1 x, reused to avoid allocation
  Eigen::VectorXd work_;             // the Cholesky update's rotated x
};

// Helpers shared by the linear policies.

// spec.context_dim must be in [1, 4096] (the length of every request's context).
Status CheckContextDim(const PolicySpec& spec);
// The "lambda" parameter: finite and > 0, default 1.0.
Result<double> ParseLambda(const PolicySpec& spec);
// Per arm: n, reward sum, and the mean of the observed rewards (0 before any).
void LinearEstimates(const std::vector<RidgeArm>& arms, std::span<ArmEstimate> out);
// All arms' state plus "dim" (one value), for the snapshot envelope.
SnapshotState SaveArms(const std::vector<RidgeArm>& arms);
// Refuses a snapshot of another context length (invalid_argument) or with a
// bad array; on success replaces `arms`, else leaves them unchanged.
Status LoadArms(const SnapshotState& state, std::vector<RidgeArm>& arms);

// What the linear policies share: one ridge regression per arm over contexts
// of a fixed length, their update, estimates and snapshot (envelope version 1).
// A subclass adds how it chooses and allocates.
class RidgePolicy : public Policy {
 public:
  RidgePolicy(size_t arms, size_t dim, double lambda, bool keep_cholesky)
      : dim_(dim), arms_(arms, RidgeArm(dim, lambda, keep_cholesky)) {}

  size_t num_arms() const override { return arms_.size(); }
  size_t context_dim() const override { return dim_; }
  void Update(size_t arm, double reward, std::span<const double> context) override {
    arms_[arm].Update(context, reward);
  }
  void Estimates(std::span<ArmEstimate> out) const override { LinearEstimates(arms_, out); }
  std::string Snapshot() const override;
  Status Restore(std::string_view bytes) override;

 protected:
  size_t dim_;
  std::vector<RidgeArm> arms_;
};

}  // namespace banditd::policies
