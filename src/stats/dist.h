// Boost.Math distributions with an error policy that never throws: a domain
// or overflow error yields NaN / inf, which the callers turn into "no result".
// Internal to banditd_stats.
#pragma once

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/policies/policy.hpp>

namespace banditd::stats::internal {

using NoThrow = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::pole_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::underflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>>;

using Normal = boost::math::normal_distribution<double, NoThrow>;
using StudentT = boost::math::students_t_distribution<double, NoThrow>;
using ChiSquared = boost::math::chi_squared_distribution<double, NoThrow>;

// Standard normal upper tail P(Z > z) and its inverse z with P(Z > z) = p.
inline double NormSf(double z) { return boost::math::cdf(boost::math::complement(Normal(), z)); }
inline double NormCdf(double z) { return boost::math::cdf(Normal(), z); }
inline double NormIsf(double p) {
  return boost::math::quantile(boost::math::complement(Normal(), p));
}
inline double NormPdf(double z) { return boost::math::pdf(Normal(), z); }

}  // namespace banditd::stats::internal
