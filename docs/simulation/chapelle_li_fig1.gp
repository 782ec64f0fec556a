# Figure 1 of docs/simulation.md: the four Chapelle & Li (2011) Figure 1
# settings side by side, regret against T on a log axis with the Lai–Robbins
# line of slope sum(Delta / kl) drawn through Thompson sampling's regret at the
# last T (the slope is what the figure compares, not the intercept). The
# y axis stops at 1.4 times KL-UCB's final regret, so UCB1 leaves the top.
# `aN` is the bandit-sim output directory (summary.csv, curves.csv) of panel N.
# usage: gnuplot -e "a1='D1';a2='D2';a3='D3';a4='D4';out='X.png'" chapelle_li_fig1.gp
# panels: 1 = K10 eps0.1, 2 = K10 eps0.02, 3 = K100 eps0.1, 4 = K100 eps0.02.
set terminal pngcairo size 1200,900 font ",10" noenhanced
set output out
set datafile separator ','
set logscale x
set format x '1e%T'
set xlabel 'T'
set ylabel 'regret'
set key top left font ",9"
set grid
set multiplot layout 2,2 title 'Chapelle & Li 2011, Figure 1: regret against T (mean over runs)'

is(p) = strcol(3) eq p
# The Lai-Robbins slope (column 12) and Thompson's final regret (column 7),
# read from summary.csv.
lr_slope(dir) = system(sprintf("awk -F, '$3==\"thompson\"{print $12}' %s/summary.csv", dir)) + 0
final_of(dir, p) = system(sprintf("awk -F, '$3==\"%s\"{print $7}' %s/summary.csv", p, dir)) + 0
final(dir) = final_of(dir, 'thompson')
horizon(dir) = system(sprintf("awk -F, '$3==\"thompson\"{print $6}' %s/summary.csv", dir)) + 0

do for [panel = 1:4] {
  a = value(sprintf('a%d', panel))
  s = lr_slope(a)
  c = final(a) - s * log(horizon(a))
  set title word("K=10,eps=0.1 K=10,eps=0.02 K=100,eps=0.1 K=100,eps=0.02", panel)
  set xrange [100:horizon(a)]
  # UCB1 runs off the top: its regret is several times the others' (table).
  set yrange [0:1.4 * final_of(a, 'kl_ucb')]
  plot a.'/curves.csv' every ::1 using 4:(is('thompson') ? $5 : NaN) with lines lw 2 lc rgb '#1f77b4' title 'Thompson', \
       a.'/curves.csv' every ::1 using 4:(is('kl_ucb') ? $5 : NaN) with lines lw 2 lc rgb '#d62728' title 'KL-UCB (c = 0)', \
       a.'/curves.csv' every ::1 using 4:(is('kl_ucb_plus') ? $5 : NaN) with lines lw 2 lc rgb '#ff7f0e' title 'KL-UCB+', \
       a.'/curves.csv' every ::1 using 4:(is('ucb1') ? $5 : NaN) with lines lw 1 lc rgb '#7f7f7f' title 'UCB1 (off the top)', \
       (s * log(x) + c >= 0 ? s * log(x) + c : NaN) with lines dt 2 lw 2 lc rgb 'black' \
         title sprintf('Lai-Robbins slope %.4g x ln T', s)
}
unset multiplot
