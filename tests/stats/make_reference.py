#!/usr/bin/python3
"""Reference values for banditd's statistics library (src/stats).

Run with Debian's python (python3-scipy, python3-statsmodels, python3-mpmath):
    /usr/bin/python3 tests/stats/make_reference.py
It rewrites tests/stats/fixtures/*.csv; the C++ tests
(tests/unit/stats/reference_test.cc) read them and need no Python.

Each file: a header line of column names, then one case per line, numbers
printed with repr() so doubles round-trip exactly. `alt` codes the
alternative: 0 two-sided, 1 treatment > control ("larger"), 2 treatment <
control ("smaller"). Differences are treatment - control throughout.
Cases are drawn from a fixed seed plus hand-picked extremes (tiny n, rates
near 0 or 1, n near 1e9).
"""
import math
import os
import warnings

import mpmath
import numpy as np
from scipy import stats
from statsmodels.stats import power as smp
from statsmodels.stats import proportion as smprop

warnings.simplefilter("ignore")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
ALTS = {0: "two-sided", 1: "larger", 2: "smaller"}
SCIPY_ALTS = {0: "two-sided", 1: "greater", 2: "less"}
rng = np.random.default_rng(20261123)


def write(name, header, rows):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".csv"), "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(repr(float(v)) for v in r) + "\n")
    print(f"{name}: {len(rows)} cases")


def proportion_pairs():
    """(x_c, n_c, x_t, n_t): random plus extremes; never all-0 or all-success pooled."""
    cases = [
        (0, 1, 1, 1), (1, 2, 0, 3), (1, 3, 2, 3), (0, 5, 4, 5), (5, 5, 4, 5),
        (1, 1000, 0, 1000), (0, 1000, 3, 1000), (999, 1000, 1000, 1000),
        (1, 10**9, 2, 10**9), (50, 10**9, 90, 10**9),
        (10**8, 10**9, 10**8 + 30000, 10**9), (999999000, 10**9, 999998000, 10**9),
        (5 * 10**8, 10**9, 5 * 10**8 + 1, 10**9), (3, 7, 3, 7),
        (10**5, 10**6, 2 * 10**5, 10**6), (1, 10**6, 10**6 - 1, 10**6),
        (12, 15, 1, 40), (2, 2, 0, 2),
    ]
    return random_pairs(cases, 70, 7)


def random_pairs(cases, count, max_log10_n):
    """`cases` topped up to `count` with random (x_c, n_c, x_t, n_t), n up to
    10^max_log10_n; never all-0 or all-success pooled."""
    while len(cases) < count:
        n_c = int(10 ** rng.uniform(0.5, max_log10_n))
        n_t = int(10 ** rng.uniform(0.5, max_log10_n))
        p = 10 ** rng.uniform(-4, -0.05) if rng.uniform() < 0.7 else rng.uniform(0.5, 0.9999)
        x_c = int(rng.binomial(n_c, p))
        x_t = int(rng.binomial(n_t, min(0.99999, p * rng.uniform(0.8, 1.3))))
        if x_c + x_t == 0 or x_c + x_t == n_c + n_t:
            continue
        cases.append((x_c, n_c, x_t, n_t))
    return cases


def ztest():
    rows = []
    for x_c, n_c, x_t, n_t in proportion_pairs():
        for alt in ALTS:
            z, p = smprop.proportions_ztest([x_t, x_c], [n_t, n_c], alternative=ALTS[alt])
            rows.append((x_c, n_c, x_t, n_t, alt, z, p))
    write("ztest", ["x_c", "n_c", "x_t", "n_t", "alt", "z", "p"], rows)


def proportion_intervals():
    wil, newc, lift = [], [], []
    for x_c, n_c, x_t, n_t in proportion_pairs():
        for conf in (0.95, 0.99):
            lo, hi = smprop.proportion_confint(x_t, n_t, alpha=1 - conf, method="wilson")
            wil.append((x_t, n_t, conf, lo, hi))
            lo, hi = smprop.confint_proportions_2indep(
                x_t, n_t, x_c, n_c, method="newcomb", compare="diff", alpha=1 - conf)
            newc.append((x_c, n_c, x_t, n_t, conf, lo, hi))
            if x_c > 0 and x_t > 0:
                lo, hi = smprop.confint_proportions_2indep(
                    x_t, n_t, x_c, n_c, method="log", compare="ratio", alpha=1 - conf)
                lift.append((x_c, n_c, x_t, n_t, conf, lo - 1, hi - 1))
    write("wilson", ["x", "n", "conf", "lo", "hi"], wil)
    write("newcombe", ["x_c", "n_c", "x_t", "n_t", "conf", "lo", "hi"], newc)
    write("lift_proportions", ["x_c", "n_c", "x_t", "n_t", "conf", "lo", "hi"], lift)


def mean_pairs():
    cases = [
        (0.0, 1.0, 2, 0.1, 1.0, 2), (1.0, 4.0, 3, 1.5, 0.25, 2), (10.0, 1.0, 10**9, 10.0001, 1.0, 10**9),
        (5.0, 100.0, 10**9, 5.0, 100.0, 10**8), (0.1, 1e-6, 50, 0.2, 1e-6, 60),
        (100.0, 1.0, 10**6, 101.0, 1.0, 10**6), (3.0, 2.0, 5, 3.0, 2.0, 5),
        (1.0, 1.0, 1000, 1.01, 50.0, 20),
    ]
    while len(cases) < 70:
        m_c = rng.normal(10, 5)
        sd_c = 10 ** rng.uniform(-2, 2)
        n_c = int(10 ** rng.uniform(0.31, 7))
        n_t = int(10 ** rng.uniform(0.31, 7))
        m_t = m_c + rng.normal(0, 1) * sd_c * 10 ** rng.uniform(-3, 0)
        sd_t = sd_c * 10 ** rng.uniform(-1, 1)
        cases.append((m_c, sd_c * sd_c, max(n_c, 2), m_t, sd_t * sd_t, max(n_t, 2)))
    return cases


def t_isf(p, df):
    """Student t upper quantile. scipy 1.10's t.isf (cephes stdtri) is
    accurate to only ~2e-9 for non-integer df, so its value is refined by
    Newton steps on the exact tail 0.5 I_{df/(df+t^2)}(df/2, 1/2) in mpmath."""
    with mpmath.workdps(40):
        q = mpmath.mpf(stats.t.isf(p, df))
        nu = mpmath.mpf(df)
        sf = lambda t: 0.5 * mpmath.betainc(nu / 2, 0.5, 0, nu / (nu + t * t), regularized=True)
        pdf = lambda t: mpmath.gamma((nu + 1) / 2) / (mpmath.sqrt(nu * mpmath.pi) * mpmath.gamma(nu / 2)) \
            * (1 + t * t / nu) ** (-(nu + 1) / 2)
        for _ in range(4):
            q += (sf(q) - p) / pdf(q)
        return float(q)


def welch():
    rows, ci, lift = [], [], []
    for m_c, v_c, n_c, m_t, v_t, n_t in mean_pairs():
        vt, vc = v_t / n_t, v_c / n_c
        df = (vt + vc) ** 2 / (vt ** 2 / (n_t - 1) + vc ** 2 / (n_c - 1))
        for alt in ALTS:
            t, p = stats.ttest_ind_from_stats(m_t, math.sqrt(v_t), n_t, m_c, math.sqrt(v_c), n_c,
                                              equal_var=False, alternative=SCIPY_ALTS[alt])
            rows.append((m_c, v_c, n_c, m_t, v_t, n_t, alt, t, p, df))
        for conf in (0.95, 0.99):
            half = t_isf((1 - conf) / 2, df) * math.sqrt(vt + vc)
            ci.append((m_c, v_c, n_c, m_t, v_t, n_t, conf, m_t - m_c - half, m_t - m_c + half))
            if m_c > 0 and m_t > 0:
                lr = math.log(m_t / m_c)
                h = stats.norm.isf((1 - conf) / 2) * math.sqrt(v_t / (n_t * m_t * m_t) + v_c / (n_c * m_c * m_c))
                lift.append((m_c, v_c, n_c, m_t, v_t, n_t, conf, math.expm1(lr - h), math.expm1(lr + h)))
    write("welch", ["m_c", "v_c", "n_c", "m_t", "v_t", "n_t", "alt", "t", "p", "df"], rows)
    write("welch_ci", ["m_c", "v_c", "n_c", "m_t", "v_t", "n_t", "conf", "lo", "hi"], ci)
    write("lift_means", ["m_c", "v_c", "n_c", "m_t", "v_t", "n_t", "conf", "lo", "hi"], lift)


def srm():
    """Up to 4 arms, padded with zeros: k, o0..o3, w0..w3, chi2, p."""
    rows = []
    hand = [([500, 500], [0.5, 0.5]), ([1, 0], [0.5, 0.5]), ([10**9, 10**9 - 100000], [0.5, 0.5]),
            ([900, 100], [0.9, 0.1]), ([50000, 52000, 50500], [1, 1, 1]), ([1, 2, 3, 4], [0.1, 0.2, 0.3, 0.4]),
            ([10**6, 0], [0.5, 0.5])]
    while len(hand) < 60:
        k = int(rng.integers(2, 5))
        w = rng.dirichlet(np.ones(k))
        n = int(10 ** rng.uniform(1, 9))
        skew = w * np.exp(rng.normal(0, 0.02, k))
        o = rng.multinomial(n, skew / skew.sum())
        hand.append((list(o), list(w)))
    for o, w in hand:
        w = np.asarray(w, float) / np.sum(w)
        o = np.asarray(o, float)
        chi2, p = stats.chisquare(o, o.sum() * w)
        k = len(o)
        rows.append([k] + list(o) + [0] * (4 - k) + list(w) + [0] * (4 - k) + [chi2, p])
    write("srm", ["k", "o0", "o1", "o2", "o3", "w0", "w1", "w2", "w3", "chi2", "p"], rows)
    # Per period: 3 periods x 2 arms with changing weights; df = 3.
    rows = []
    for _ in range(60):
        n_per = [int(10 ** rng.uniform(1, 7)) for _ in range(3)]
        ws = [rng.uniform(0.05, 0.95) for _ in range(3)]
        bias = rng.normal(0, 0.01)
        obs, total = [], 0.0
        for n, w in zip(n_per, ws):
            x = rng.binomial(n, min(0.999, max(0.001, w + bias)))
            obs += [x, n - x]
            total += stats.chisquare([x, n - x], [n * w, n * (1 - w)])[0]
        p = stats.chi2.sf(total, 3)
        rows.append(obs + [w for wp in ws for w in (wp, 1 - wp)] + [total, p])
    write("srm_periods", [f"o{i}" for i in range(6)] + [f"w{i}" for i in range(6)] + ["chi2", "p"], rows)


def planning():
    rows_p, rows_m = [], []
    for i in range(70):
        base = 10 ** rng.uniform(-3, -0.1) if i % 7 else rng.uniform(0.9, 0.995)
        mde = base * rng.choice([-1, 1]) * 10 ** rng.uniform(-2.5, -0.2)
        if not 0 < base + mde < 1:
            mde = -mde
        power = rng.uniform(0.5, 0.99)
        alpha = rng.choice([0.001, 0.01, 0.05, 0.1])
        ratio = rng.choice([1.0, 1.0, 0.5, 2.0, 9.0])
        alt = int(rng.integers(0, 3)) if mde > 0 else int(rng.choice([0, 2]))
        n = smprop.samplesize_proportions_2indep_onetail(mde, base, power, ratio=ratio, alpha=alpha,
                                                        alternative=ALTS[alt])
        n_test = float(int(10 ** rng.uniform(1, 9)))
        pw = smprop.power_proportions_2indep(mde, base, n_test, ratio=ratio, alpha=alpha,
                                             alternative=ALTS[alt], return_results=False)
        rows_p.append((base, mde, power, alpha, ratio, alt, n, n_test, pw))
        sd = 10 ** rng.uniform(-2, 3)
        mde_m = sd * rng.choice([-1, 1]) * 10 ** rng.uniform(-3, 0.5)
        if mde_m < 0 and alt == 1:
            mde_m = -mde_m
        if mde_m > 0 and alt == 2:
            mde_m = -mde_m
        s = sd * math.sqrt(1 + 1 / ratio)
        tail = alpha / 2 if alt == 0 else alpha
        n_m = smp.normal_sample_size_one_tail(mde_m, power, tail, std_null=s, std_alternative=s)
        pw_m = smp.normal_power_het(mde_m, n_test, alpha, std_null=s, std_alternative=s, alternative=ALTS[alt])
        rows_m.append((sd, mde_m, power, alpha, ratio, alt, n_m, n_test, pw_m))
    hdr = ["base_or_sd", "mde", "power", "alpha", "ratio", "alt", "n", "n_test", "power_at_n_test"]
    write("plan_proportions", hdr, rows_p)
    write("plan_means", hdr, rows_m)


def msprt():
    """Always-valid p and CI (Johari, Pekelis & Walsh): the formula, in float64."""
    rows = []
    for _ in range(60):
        v = 10 ** rng.uniform(-9, 1)
        d = rng.normal(0, 1) * math.sqrt(v) * 10 ** rng.uniform(-1, 1.3)
        tau2 = 10 ** rng.uniform(-6, 1)
        alpha = rng.choice([0.01, 0.05, 0.1])
        log_l = 0.5 * math.log(v / (v + tau2)) + tau2 * d * d / (2 * v * (v + tau2))
        p = min(1.0, math.exp(-log_l))
        half = math.sqrt(v * (v + tau2) / tau2 * (math.log1p(tau2 / v) - 2 * math.log(alpha)))
        rows.append((d, v, tau2, alpha, p, d - half, d + half))
    write("msprt", ["d", "v", "tau2", "alpha", "p", "lo", "hi"], rows)


def asymptotic_cs():
    """Gaussian-mixture asymptotic confidence sequence (Waudby-Smith, Arbour,
    Sinha, Kennedy & Ramdas 2024): radius and the p-value that inverts it."""
    rows = []
    for _ in range(60):
        t = float(int(10 ** rng.uniform(0.4, 9)))
        var = 10 ** rng.uniform(-6, 3)
        mean = rng.normal(0, 1) * math.sqrt(var / t) * 10 ** rng.uniform(-1, 1.5)
        alpha = rng.choice([0.01, 0.05, 0.1])
        tune = float(int(10 ** rng.uniform(2, 7)))
        lam = -2 * math.log(alpha)
        rho2 = (lam + math.log(lam + 1)) / tune
        g = t * var * rho2 + 1
        radius = math.sqrt(2 * g / (t * t * rho2) * math.log(math.sqrt(g) / alpha))
        p = min(1.0, math.exp(0.5 * math.log(g) - mean * mean * t * t * rho2 / (2 * g)))
        rows.append((t, mean, var, alpha, tune, radius, p))
    write("asymptotic_cs", ["t", "mean", "var", "alpha", "tune_n", "radius", "p"], rows)


def miller_direct(a1, b1, a2, b2):
    """P(X2 > X1), Evan Miller's sum over i < a2 (a2 integer), in mpmath."""
    s = mpmath.mpf(0)
    lb11 = mpmath.log(mpmath.beta(a1, b1))
    for i in range(int(a2)):
        s += mpmath.exp(mpmath.log(mpmath.beta(a1 + i, b1 + b2)) - mpmath.log(b2 + i)
                        - mpmath.log(mpmath.beta(1 + i, b2)) - lb11)
    return s


def prob_greater(a1, b1, a2, b2):
    """Non-cancelling exact form: sum over a2, or over b1 by symmetry."""
    if a2 == int(a2) and (b1 != int(b1) or a2 <= b1):
        return miller_direct(a1, b1, a2, b2)
    if b1 == int(b1):
        return miller_direct(b2, a2, b1, a1)
    raise ValueError("non-integer case")


def bayes():
    mpmath.mp.dps = 60
    rows = []
    hand = [(1, 1, 1, 1), (2, 1, 1, 1), (11, 91, 21, 81), (101, 901, 61, 941), (1, 1001, 31, 971),
            (51, 10**9, 91, 10**9), (3, 10**9, 1, 10**9), (1001, 9001, 1301, 8701),
            (5001, 5001, 4801, 5201), (2, 10**6, 40, 10**6 - 38), (999, 2, 1000, 1), (40, 3, 1, 60)]
    while len(hand) < 60:
        n_c = int(10 ** rng.uniform(0.5, 4.3))
        n_t = int(10 ** rng.uniform(0.5, 4.3))
        p = 10 ** rng.uniform(-2.5, -0.1)
        x_c = int(rng.binomial(n_c, p))
        x_t = int(rng.binomial(n_t, min(0.999, p * rng.uniform(0.7, 1.4))))
        hand.append((1 + x_c, 1 + n_c - x_c, 1 + x_t, 1 + n_t - x_t))
    for a_c, b_c, a_t, b_t in hand:
        p = prob_greater(a_c, b_c, a_t, b_t)
        # Stucchio: loss of choosing t = E[mu_c] P(B(a_c+1,b_c) > B_t) - E[mu_t] P(B_c > B(a_t+1,b_t)).
        m_c = mpmath.mpf(a_c) / (a_c + b_c)
        m_t = mpmath.mpf(a_t) / (a_t + b_t)
        loss_t = m_c * prob_greater(a_t, b_t, a_c + 1, b_c) - m_t * (1 - prob_greater(a_c, b_c, a_t + 1, b_t))
        loss_c = m_t * prob_greater(a_c, b_c, a_t + 1, b_t) - m_c * (1 - prob_greater(a_t, b_t, a_c + 1, b_c))
        rows.append((a_c, b_c, a_t, b_t, float(p), float(loss_t), float(loss_c)))
    write("prob_better_beta", ["a_c", "b_c", "a_t", "b_t", "p_t_better", "loss_choose_t", "loss_choose_c"], rows)
    rows = []
    for _ in range(60):
        m_c = rng.normal(0, 1)
        s_c = 10 ** rng.uniform(-3, 0)
        s_t = s_c * 10 ** rng.uniform(-1, 1)
        m_t = m_c + rng.normal(0, 1) * s_c * 10 ** rng.uniform(-1, 1.2)
        s = math.hypot(s_c, s_t)
        z = (m_t - m_c) / s
        m = m_c - m_t
        loss_t = m * stats.norm.cdf(m / s) + s * stats.norm.pdf(m / s)
        rows.append((m_c, s_c, m_t, s_t, stats.norm.cdf(z), loss_t))
    write("prob_better_normal", ["m_c", "s_c", "m_t", "s_t", "p_t_better", "loss_choose_t"], rows)


def fisher():
    """Fisher's exact test, scipy's two-sided rule (tables no more likely)."""
    cases = [
        (5, 1000, 12, 1000), (10, 60, 3, 50), (5, 100, 0, 100), (300, 180000, 40, 20000),
        (1, 10, 1, 10), (0, 5, 7, 7), (430, 100000, 520, 100000), (1, 100, 2, 900),
        (30, 1000, 30, 1000), (0, 1, 1, 1), (1, 2, 0, 3), (12, 15, 1, 40), (2, 2, 0, 2),
        (1, 10**6, 0, 10**4), (200, 10**6, 9, 10**4), (5 * 10**4, 10**5, 5 * 10**4 + 400, 10**5),
        (999, 1000, 1000, 1000), (3, 7, 3, 7),
    ]
    random_pairs(cases, 60, 5.5)
    rows = []
    for x_c, n_c, x_t, n_t in cases:
        for alt in SCIPY_ALTS:
            table = [[x_t, n_t - x_t], [x_c, n_c - x_c]]
            rows.append((x_c, n_c, x_t, n_t, alt,
                         stats.fisher_exact(table, alternative=SCIPY_ALTS[alt])[1]))
    write("fisher", ["x_c", "n_c", "x_t", "n_t", "alt", "p"], rows)


if __name__ == "__main__":
    ztest()
    proportion_intervals()
    welch()
    srm()
    planning()
    msprt()
    asymptotic_cs()
    bayes()
    fisher()
